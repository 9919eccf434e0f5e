#pragma once
// Per-asset numeric views of payloads: the vector kinds read scans ({assets, prices}) and vector
// outputs ({assets, values}) alike, by asset name, and emit {assets, values} in name order.

#include <map>
#include <string>
#include <utility>

#include "messages/value.hpp"

namespace shoal {

using asset_map = std::map<std::string, double, std::less<>>;

// {assets, values}, both moved in. A braced value_map{{"assets", ...}, {"values", ...}} copies
// them (an initializer_list's elements are const): the values vector once more per output.
inline Value asset_values_map(Value assets, Value values) {
  value_map m;
  m.emplace_hint(m.end(), "assets", std::move(assets));
  m.emplace_hint(m.end(), "values", std::move(values));
  return Value(std::move(m));
}

}  // namespace shoal
