#pragma once
#include <vector>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// Every kind shipped with shoal, one line per kind (see actors/<kind>/).
std::vector<kind_info> builtin_kinds();

}  // namespace shoal
