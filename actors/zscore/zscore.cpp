#include "actors/zscore/zscore.hpp"

#include <cmath>

#include "actors/core/asset_values.hpp"
#include "messages/payloads.hpp"

namespace shoal {

Value zscore_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  std::vector<asset_map> cols(w.size());
  for (std::size_t p = 0; p < w.size(); ++p) {
    if (!read_asset_values(*w[p].v, cols[p])) {
      note("not_asset_values");
      return Value{};
    }
  }
  asset_map out;
  std::vector<double> xs;
  for (const auto& [asset, last] : cols.back()) {
    xs.clear();
    for (std::size_t p = w.size() - window_; p < w.size(); ++p) {
      auto it = cols[p].find(asset);
      if (it == cols[p].end() || !std::isfinite(it->second)) break;
      xs.push_back(it->second);
    }
    if (xs.size() != window_) {
      note("incomplete_window");
      continue;
    }
    double lo = xs[0], hi = xs[0], sum = 0;
    for (double x : xs) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
    if (lo == hi) {  // exact test: a rounding residue must not turn flat input into a huge z
      out.emplace(asset, 0.0);
      continue;
    }
    const double mean = sum / static_cast<double>(xs.size());
    double ss = 0;
    for (double x : xs) ss += (x - mean) * (x - mean);
    const double sd = std::sqrt(ss / static_cast<double>(xs.size() - 1));
    const double z = sd > 0 ? (last - mean) / sd : 0.0;
    if (!std::isfinite(z)) {
      note("non_finite_result");
      continue;
    }
    out.emplace(asset, z);
  }
  return make_asset_values(out);
}

kind_info zscore_kind() {
  kind_info k;
  k.name = "zscore";
  k.summary = "(x_t - mean) / sample std over the last `window` values per asset";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("window", 20, 2, 100'000);
    return r.finish();
  };
  k.min_period = [](const value_map& p) {
    return static_cast<std::size_t>(p.at("window").as_int());
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<zscore_kernel>(static_cast<std::size_t>(p.at("window").as_int()));
  };
  return k;
}

}  // namespace shoal
