#include "actors/log_return/log_return.hpp"

#include <cmath>

#include "actors/core/asset_values.hpp"
#include "messages/payloads.hpp"

namespace shoal {

Value log_return_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  asset_map prev, cur, out;
  if (!read_asset_values(*w[w.size() - 2].v, prev) || !read_asset_values(*w.back().v, cur)) {
    note("not_asset_values");
    return Value{};
  }
  for (const auto& [asset, p1] : cur) {
    auto it = prev.find(asset);
    if (it == prev.end()) {
      note("no_previous_price");
      continue;
    }
    const double p0 = it->second;
    if (!(p0 > 0) || !(p1 > 0)) {
      note("non_positive_price");
      continue;
    }
    const double r = std::log(p1 / p0);
    if (!std::isfinite(r)) {
      note("non_finite_result");
      continue;
    }
    out.emplace(asset, r);
  }
  return make_asset_values(out);
}

kind_info log_return_kind() {
  kind_info k;
  k.name = "log_return";
  k.summary = "r = ln(p_t / p_{t-1}) per asset";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.min_period = [](const value_map&) { return std::size_t{2}; };
  k.make = [](const value_map&, const kernel_context&) {
    return std::make_unique<log_return_kernel>();
  };
  return k;
}

}  // namespace shoal
