#pragma once
// The `window` param of the rolling-window kinds (zscore, rolling_vol): an int in [2, 100000],
// default 20, and the period it implies (the window itself).
#include "actors/core/kind_registry.hpp"

namespace shoal {

inline std::size_t window_of(const value_map& normalized) {
  return static_cast<std::size_t>(normalized.at("window").as_int());
}

inline void use_window_param(kind_info& k) {
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("window", 20, 2, 100'000);
    return r.finish();
  };
  k.min_period = [](const value_map& p) { return window_of(p); };
}

}  // namespace shoal
