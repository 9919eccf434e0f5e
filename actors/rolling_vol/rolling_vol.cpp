#include "actors/rolling_vol/rolling_vol.hpp"

#include "actors/core/window_param.hpp"

#include <cmath>

namespace shoal {

Value rolling_vol_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  if (w.size() < window_) {
    note("short_window");
    return Value{};
  }
  const std::size_t first = w.size() - window_;
  if (!views_.sync(w, first, window_, ids_)) {
    note("not_asset_values");
    return Value{};
  }
  const std::size_t m = ids_.size();
  vals_.resize(m * window_);
  seen_.assign(m, 0);
  for (std::size_t p = 0; p < window_; ++p) {
    const auto& e = views_.entries()[p];
    for (std::size_t k = 0; k < e.view.size(); ++k) {  // views hold each name once
      vals_[e.ids[k] * window_ + p] = e.view[k].x;
      ++seen_[e.ids[k]];
    }
  }
  value_list names;
  f64_vector values;
  const auto& last = views_.entries()[window_ - 1];
  for (std::size_t k = 0; k < last.view.size(); ++k) {
    const std::uint32_t id = last.ids[k];
    if (seen_[id] != window_) {
      note("incomplete_window");
      continue;
    }
    const double* xs = &vals_[id * window_];
    double lo = xs[0], hi = xs[0], sum = 0;
    for (std::size_t p = 0; p < window_; ++p) {
      const double x = xs[p];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
    double sd = 0;
    // Exact test: a rounding residue of the mean must not turn a flat series into a tiny std.
    if (lo != hi) {
      const double mean = sum / static_cast<double>(window_);
      double ss = 0;
      for (std::size_t p = 0; p < window_; ++p) ss += (xs[p] - mean) * (xs[p] - mean);
      sd = std::sqrt(ss / static_cast<double>(window_ - 1));
    }
    if (!std::isfinite(sd)) {  // huge inputs can overflow the sum of squares
      note("non_finite_result");
      continue;
    }
    names.emplace_back(std::string(last.view[k].name));
    values.push_back(sd);
  }
  return asset_values_map(Value(std::move(names)), Value(std::move(values)));
}

kind_info rolling_vol_kind() {
  kind_info k;
  k.name = "rolling_vol";
  k.summary = "sample std (ddof=1) of the input over the last `window` values per asset";
  use_window_param(k);
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<rolling_vol_kernel>(window_of(p));
  };
  return k;
}

}  // namespace shoal
