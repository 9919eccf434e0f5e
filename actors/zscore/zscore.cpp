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
  const std::size_t m = last.view.size();
  // rows_[k][i]: asset i of the last slot, in slot k. When every slot names the same assets
  // (the usual case) a row is the slot's own values; otherwise a gather by asset id, NaN
  // where the asset is missing. Either way the sums below run over k in the same order for
  // every asset, so the result is the same to the bit; looping over assets innermost lets the
  // compiler keep several assets' sums in one vector register.
  bool aligned = true;
  for (std::size_t k = 0; k + 1 < window_ && aligned; ++k) aligned = entries[k].ids == last.ids;
  rows_.resize(window_);
  if (aligned) {
    for (std::size_t k = 0; k < window_; ++k) rows_[k] = entries[k].xs.data();
  } else {
    const std::size_t n = ids_.size();
    std::vector<double> by_id(n);
    grid_.resize(window_ * m);
    for (std::size_t k = 0; k < window_; ++k) {
      const auto& e = entries[k];
      std::fill(by_id.begin(), by_id.end(), std::numeric_limits<double>::quiet_NaN());
      for (std::size_t i = 0; i < e.view.size(); ++i) by_id[e.ids[i]] = e.view[i].x;
      for (std::size_t i = 0; i < m; ++i) grid_[k * m + i] = by_id[last.ids[i]];
      rows_[k] = grid_.data() + k * m;
    }
  }
  lo_.assign(rows_[0], rows_[0] + m);
  hi_.assign(rows_[0], rows_[0] + m);
  sum_.assign(m, 0.0);
  bad_.assign(m, 0.0);
  ss_.assign(m, 0.0);
  // Local restrict pointers: the compiler need not reload them after every store.
  double* __restrict lo = lo_.data();
  double* __restrict hi = hi_.data();
  double* __restrict mean = sum_.data();
  double* __restrict bad = bad_.data();  // 0 while every value is finite (x - x is 0 then)
  double* __restrict ss = ss_.data();
  for (std::size_t k = 0; k < window_; ++k) {
    const double* __restrict x = rows_[k];
    for (std::size_t i = 0; i < m; ++i) {
      bad[i] += x[i] - x[i];
      lo[i] = x[i] < lo[i] ? x[i] : lo[i];  // std::min(lo, x)
      hi[i] = hi[i] < x[i] ? x[i] : hi[i];  // std::max(hi, x)
      mean[i] += x[i];
    }
  }
  const double count = static_cast<double>(window_);
  for (std::size_t i = 0; i < m; ++i) mean[i] /= count;
  for (std::size_t k = 0; k < window_; ++k) {
    const double* __restrict x = rows_[k];
    for (std::size_t i = 0; i < m; ++i) {
      const double d = x[i] - mean[i];
      ss[i] += d * d;
    }
  }
  std::vector<asset_entry> out;
  out.reserve(m);
  for (std::size_t i = 0; i < m; ++i) {
    if (bad[i] != 0) {  // NaN: some value was not finite
      note("incomplete_window");
      continue;
    }
    if (lo[i] == hi[i]) {  // exact test: a rounding residue must not turn flat input into a huge z
      out.push_back({last.view[i].name, 0.0});
      continue;
    }
    const double sd = std::sqrt(ss[i] / (count - 1));
    const double z = sd > 0 ? (last.view[i].x - mean[i]) / sd : 0.0;
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
