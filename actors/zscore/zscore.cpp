#include "actors/zscore/zscore.hpp"

#include "actors/core/window_param.hpp"

#include <cmath>
#include <limits>

#include "actors/core/asset_values.hpp"
#include "messages/payloads.hpp"

namespace shoal {

Value zscore_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  const std::size_t first = w.size() - window_;
  if (!views_.sync(w, first, window_, ids_)) {
    note("not_asset_values");
    return Value{};
  }
  const auto& entries = views_.entries();
  const auto& last = entries.back();
  // Every slot naming the same assets (the usual case): read asset i of slot k straight from
  // the views. Otherwise a dense [slot][asset] grid, NaN where an asset is missing. Both feed
  // the same sums in the same order, so the result is the same to the bit.
  bool aligned = true;
  for (std::size_t k = 0; k + 1 < window_ && aligned; ++k) aligned = entries[k].ids == last.ids;
  const std::size_t n = ids_.size();
  if (!aligned) {
    grid_.assign(window_ * n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t k = 0; k < window_; ++k) {
      const auto& e = entries[k];
      for (std::size_t i = 0; i < e.view.size(); ++i) grid_[k * n + e.ids[i]] = e.view[i].x;
    }
  }
  const auto at = [&](std::size_t k, std::size_t i) {
    return aligned ? entries[k].view[i].x : grid_[k * n + last.ids[i]];
  };
  std::vector<asset_entry> out;
  out.reserve(last.view.size());
  for (std::size_t i = 0; i < last.view.size(); ++i) {
    double lo = 0, hi = 0, sum = 0;
    bool complete = true;
    for (std::size_t k = 0; k < window_; ++k) {
      const double x = at(k, i);
      if (!std::isfinite(x)) {
        complete = false;
        break;
      }
      if (k == 0) lo = hi = x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
    if (!complete) {
      note("incomplete_window");
      continue;
    }
    if (lo == hi) {  // exact test: a rounding residue must not turn flat input into a huge z
      out.push_back({last.view[i].name, 0.0});
      continue;
    }
    const double mean = sum / static_cast<double>(window_);
    double ss = 0;
    for (std::size_t k = 0; k < window_; ++k) {
      const double d = at(k, i) - mean;
      ss += d * d;
    }
    const double sd = std::sqrt(ss / static_cast<double>(window_ - 1));
    const double z = sd > 0 ? (last.view[i].x - mean) / sd : 0.0;
    if (!std::isfinite(z)) {
      note("non_finite_result");
      continue;
    }
    out.push_back({last.view[i].name, z});
  }
  return make_asset_values(out, last.v.get());
}

kind_info zscore_kind() {
  kind_info k;
  k.name = "zscore";
  k.summary = "(x_t - mean) / sample std over the last `window` values per asset";
  use_window_param(k);
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<zscore_kernel>(window_of(p));
  };
  return k;
}

}  // namespace shoal
