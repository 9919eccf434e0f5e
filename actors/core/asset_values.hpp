#pragma once
// Per-asset numeric views of payloads: the vector kinds read scans ({assets, prices}) and vector
// outputs ({assets, values}) alike, by asset name, and emit {assets, values} in name order.

#include <map>
#include <string>

#include "messages/value.hpp"

namespace shoal {

using asset_map = std::map<std::string, double, std::less<>>;

}  // namespace shoal
