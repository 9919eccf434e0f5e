#include "actors/zscore/zscore.hpp"

#include "actors/core/window_param.hpp"

#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SHOAL_ZSCORE_AVX 1
#endif
#include <limits>

#include "actors/core/asset_values.hpp"
#include "actors/core/cpu_features.hpp"
#include "messages/payloads.hpp"

namespace shoal {

// Assets [i, i + B) of rows_: each one's lowest, highest, mean, sum of squared deviations and
// finiteness over the window, in the order of the slots (the same operations, in the same
// order, for every asset: B only decides how many assets go through together).
template <std::size_t B>
void zscore_kernel::window_moments(std::size_t i) {
  double lo[B], hi[B], sum[B] = {}, bad[B] = {};  // bad: 0 while every value is finite
  for (std::size_t j = 0; j < B; ++j) lo[j] = hi[j] = rows_[0][i + j];
  for (std::size_t k = 0; k < window_; ++k) {
    const double* x = rows_[k] + i;
    for (std::size_t j = 0; j < B; ++j) {
      bad[j] += x[j] - x[j];                // x - x is 0 exactly when x is finite
      lo[j] = x[j] < lo[j] ? x[j] : lo[j];  // std::min(lo, x)
      hi[j] = hi[j] < x[j] ? x[j] : hi[j];  // std::max(hi, x)
      sum[j] += x[j];
    }
  }
  double mean[B], ss[B] = {};
  for (std::size_t j = 0; j < B; ++j) mean[j] = sum[j] / static_cast<double>(window_);
  for (std::size_t k = 0; k < window_; ++k) {
    const double* x = rows_[k] + i;
    for (std::size_t j = 0; j < B; ++j) {
      const double d = x[j] - mean[j];
      ss[j] += d * d;
    }
  }
  for (std::size_t j = 0; j < B; ++j) {
    lo_[i + j] = lo[j];
    hi_[i + j] = hi[j];
    sum_[i + j] = mean[j];
    bad_[i + j] = bad[j];
    ss_[i + j] = ss[j];
  }
}

#if defined(__SSE2__)
// The same for four assets in two SSE2 registers per quantity, kept in registers across the
// window (the compiler kept arrays of them in memory). Each lane does exactly the scalar
// operations: minpd(x, lo) is x < lo ? x : lo, maxpd(x, hi) is hi < x ? x : hi, and SSE2 has
// no fused multiply-add.
template <>
void zscore_kernel::window_moments<4>(std::size_t i) {
  __m128d lo0 = _mm_loadu_pd(rows_[0] + i), lo1 = _mm_loadu_pd(rows_[0] + i + 2);
  __m128d hi0 = lo0, hi1 = lo1;
  __m128d sum0 = _mm_setzero_pd(), sum1 = sum0, bad0 = sum0, bad1 = sum0;
  for (std::size_t k = 0; k < window_; ++k) {
    const __m128d x0 = _mm_loadu_pd(rows_[k] + i), x1 = _mm_loadu_pd(rows_[k] + i + 2);
    bad0 = _mm_add_pd(bad0, _mm_sub_pd(x0, x0));
    bad1 = _mm_add_pd(bad1, _mm_sub_pd(x1, x1));
    lo0 = _mm_min_pd(x0, lo0);
    lo1 = _mm_min_pd(x1, lo1);
    hi0 = _mm_max_pd(x0, hi0);
    hi1 = _mm_max_pd(x1, hi1);
    sum0 = _mm_add_pd(sum0, x0);
    sum1 = _mm_add_pd(sum1, x1);
  }
  const __m128d count = _mm_set1_pd(static_cast<double>(window_));
  const __m128d mean0 = _mm_div_pd(sum0, count), mean1 = _mm_div_pd(sum1, count);
  __m128d ss0 = _mm_setzero_pd(), ss1 = ss0;
  for (std::size_t k = 0; k < window_; ++k) {
    const __m128d d0 = _mm_sub_pd(_mm_loadu_pd(rows_[k] + i), mean0);
    const __m128d d1 = _mm_sub_pd(_mm_loadu_pd(rows_[k] + i + 2), mean1);
    ss0 = _mm_add_pd(ss0, _mm_mul_pd(d0, d0));
    ss1 = _mm_add_pd(ss1, _mm_mul_pd(d1, d1));
  }
  _mm_storeu_pd(&lo_[i], lo0);
  _mm_storeu_pd(&lo_[i + 2], lo1);
  _mm_storeu_pd(&hi_[i], hi0);
  _mm_storeu_pd(&hi_[i + 2], hi1);
  _mm_storeu_pd(&sum_[i], mean0);
  _mm_storeu_pd(&sum_[i + 2], mean1);
  _mm_storeu_pd(&bad_[i], bad0);
  _mm_storeu_pd(&bad_[i + 2], bad1);
  _mm_storeu_pd(&ss_[i], ss0);
  _mm_storeu_pd(&ss_[i + 2], ss1);
}
#endif

#if defined(SHOAL_ZSCORE_AVX)
// Eight assets in two AVX registers per quantity, on a CPU that has AVX (x86-64's baseline does
// not, so the build does not assume it: compute() asks the CPU). The same lane operations as
// the SSE2 version, twice as wide: vminpd/vmaxpd are minpd/maxpd, and AVX has no fused
// multiply-add either (that is FMA3, not asked for here).
template <>
__attribute__((target("avx"))) void zscore_kernel::window_moments<8>(std::size_t i) {
  __m256d lo0 = _mm256_loadu_pd(rows_[0] + i), lo1 = _mm256_loadu_pd(rows_[0] + i + 4);
  __m256d hi0 = lo0, hi1 = lo1;
  __m256d sum0 = _mm256_setzero_pd(), sum1 = sum0, bad0 = sum0, bad1 = sum0;
  for (std::size_t k = 0; k < window_; ++k) {
    const __m256d x0 = _mm256_loadu_pd(rows_[k] + i), x1 = _mm256_loadu_pd(rows_[k] + i + 4);
    bad0 = _mm256_add_pd(bad0, _mm256_sub_pd(x0, x0));
    bad1 = _mm256_add_pd(bad1, _mm256_sub_pd(x1, x1));
    lo0 = _mm256_min_pd(x0, lo0);
    lo1 = _mm256_min_pd(x1, lo1);
    hi0 = _mm256_max_pd(x0, hi0);
    hi1 = _mm256_max_pd(x1, hi1);
    sum0 = _mm256_add_pd(sum0, x0);
    sum1 = _mm256_add_pd(sum1, x1);
  }
  const __m256d count = _mm256_set1_pd(static_cast<double>(window_));
  const __m256d mean0 = _mm256_div_pd(sum0, count), mean1 = _mm256_div_pd(sum1, count);
  __m256d ss0 = _mm256_setzero_pd(), ss1 = ss0;
  for (std::size_t k = 0; k < window_; ++k) {
    const __m256d d0 = _mm256_sub_pd(_mm256_loadu_pd(rows_[k] + i), mean0);
    const __m256d d1 = _mm256_sub_pd(_mm256_loadu_pd(rows_[k] + i + 4), mean1);
    ss0 = _mm256_add_pd(ss0, _mm256_mul_pd(d0, d0));
    ss1 = _mm256_add_pd(ss1, _mm256_mul_pd(d1, d1));
  }
  _mm256_storeu_pd(&lo_[i], lo0);
  _mm256_storeu_pd(&lo_[i + 4], lo1);
  _mm256_storeu_pd(&hi_[i], hi0);
  _mm256_storeu_pd(&hi_[i + 4], hi1);
  _mm256_storeu_pd(&sum_[i], mean0);
  _mm256_storeu_pd(&sum_[i + 4], mean1);
  _mm256_storeu_pd(&bad_[i], bad0);
  _mm256_storeu_pd(&bad_[i + 4], bad1);
  _mm256_storeu_pd(&ss_[i], ss0);
  _mm256_storeu_pd(&ss_[i + 4], ss1);
}
#endif

namespace {

// Each asset's z as if its window were finite and not flat: (last - mean) / sd with
// sd = sqrt(ss / (count - 1)), or 0 where sd is not positive.
void z_values(const double* ss, const double* last, const double* mean, double count, std::size_t m,
              double* z) {
  for (std::size_t i = 0; i < m; ++i) {
    const double sd = std::sqrt(ss[i] / (count - 1));
    z[i] = sd > 0 ? (last[i] - mean[i]) / sd : 0.0;
  }
}

#if defined(SHOAL_ZSCORE_AVX)
// The same, four assets at once. Division and square root are correctly rounded in every form,
// so each lane's bits are the scalar ones; `sd > 0 ? q : 0.0` is q masked by the comparison.
__attribute__((target("avx"))) void z_values_avx(const double* ss, const double* last,
                                                 const double* mean, double count, std::size_t m,
                                                 double* z) {
  const __m256d n1 = _mm256_set1_pd(count - 1);
  const __m256d zero = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const __m256d sd = _mm256_sqrt_pd(_mm256_div_pd(_mm256_loadu_pd(ss + i), n1));
    const __m256d q =
        _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(last + i), _mm256_loadu_pd(mean + i)), sd);
    _mm256_storeu_pd(z + i, _mm256_and_pd(q, _mm256_cmp_pd(sd, zero, _CMP_GT_OQ)));
  }
  z_values(ss + i, last + i, mean + i, count, m - i, z + i);
}
#else
void z_values_avx(const double* ss, const double* last, const double* mean, double count,
                  std::size_t m, double* z) {
  z_values(ss, last, mean, count, m, z);  // never called: cpu_has_avx() is false
}
#endif

// A vector output's shared asset list and values ({assets, values}, not a scan's prices, whose
// non-positive entries the general path drops), when the list is ascending and has a value
// for each name; {nullptr, nullptr} otherwise.
whole_view vector_view(const Value& v) {
  if (v.find("prices")) {
    return {};
  }
  const Value* assets = v.find("assets");
  const shared_list* list = assets ? assets->as_shared_list() : nullptr;
  const Value* values = v.find("values");
  if (!list || !*list || !(*list)->ascending || !values || !values->is_f64_vector() ||
      values->as_f64_vector().size() != (*list)->items.size()) {
    return {};
  }
  return {list, &values->as_f64_vector()};
}

}  // namespace

bool zscore_kernel::rows_by_position(const slot_ring& w, std::size_t first) {
  // Every slot of the window names the last slot's shared list whole, and the last slot's
  // values are all finite: slot k's values are row k as they are (no view, no name). A
  // non-finite value in an earlier slot is one the general path would leave out of that
  // slot's view, making the asset incomplete: here it is NaN in its row, with the same
  // outcome. Any other shape takes the general path.
  const whole_view last = vector_view(*w.back().v);
  if (!last.list) {
    return false;
  }
  for (const double x : *last.xs) {
    if (!std::isfinite(x)) {
      return false;
    }
  }
  // Each slot's list and values, found once while it is in the window (matched by payload,
  // which the entry holds, like view_cache: the window moved by one slot since last time).
  next_.resize(window_);
  rows_.resize(window_);
  bool all = true;
  for (std::size_t k = 0; k < window_; ++k) {
    const value_ptr& v = w[first + k].v;
    slot_list& e = next_[k];
    if (k + 1 < held_.size() && held_[k + 1].v.get() == v.get()) {
      std::swap(e, held_[k + 1]);
    } else {
      const whole_view view = k + 1 == window_ ? last : vector_view(*v);
      e = {v, view.list ? view.list->get() : nullptr, view.xs ? view.xs->data() : nullptr};
    }
    all = all && e.list == last.list->get();
    rows_[k] = e.xs;
  }
  std::swap(held_, next_);
  for (auto& e : next_) {
    e.v.reset();  // do not keep old payloads alive
  }
  if (!all) {
    return false;
  }
  list_ = *last.list;
  last_ = last.xs->data();
  return true;
}

void zscore_kernel::rows_by_name(std::size_t m) {
  const auto& entries = views_.entries();
  const auto& last = entries.back();
  // rows_[k][i]: asset i of the last slot, in slot k. When every slot names the same assets
  // (the usual case) a row is the slot's own values; otherwise a gather by asset id, NaN
  // where the asset is missing. Either way the sums below run over k in the same order for
  // every asset, so the result is the same to the bit.
  bool aligned = true;
  for (std::size_t k = 0; k + 1 < window_ && aligned; ++k)  // one whole shared list: equal
    aligned = (last.list && entries[k].list == last.list) || entries[k].ids == last.ids;
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
}

Value zscore_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  const std::size_t first = w.size() - window_;
  const bool by_position = rows_by_position(w, first);
  std::size_t m = 0;
  if (by_position) {
    m = list_->items.size();
  } else {
    list_.reset();
    if (!views_.sync(w, first, window_, ids_)) {
      note("not_asset_values");
      return Value{};
    }
    const auto& last = views_.entries().back();
    m = last.view.size();
    last_xs_.resize(m);
    for (std::size_t i = 0; i < m; ++i) last_xs_[i] = last.view[i].x;
    last_ = last_xs_.data();
    rows_by_name(m);
  }
  lo_.resize(m);
  hi_.resize(m);
  sum_.resize(m);
  bad_.resize(m);
  ss_.resize(m);
  std::size_t at = 0;
  if (cpu_has_avx()) {
    for (; at + 8 <= m; at += 8) window_moments<8>(at);  // the generic one without AVX: unused
  }
  for (; at + 4 <= m; at += 4) window_moments<4>(at);
  for (; at < m; ++at) window_moments<1>(at);
  const double count = static_cast<double>(window_);
  const double* lo = lo_.data();
  const double* hi = hi_.data();
  const double* mean = sum_.data();
  const double* bad = bad_.data();
  const double* ss = ss_.data();
  f64_vector z(m);
  // z[i] holds each asset's value first; the loop below keeps it, zeroes it or drops it.
  if (cpu_has_avx()) {
    z_values_avx(ss, last_, mean, count, m, z.data());
  } else {
    z_values(ss, last_, mean, count, m, z.data());
  }
  kept_.assign(m, 1);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (bad[i] != 0) {  // NaN: some value was not finite
      note("incomplete_window");
      kept_[i] = 0;
      ++dropped;
      continue;
    }
    if (lo[i] == hi[i]) {  // exact test: a rounding residue must not turn flat input into a huge z
      z[i] = 0.0;
      continue;
    }
    if (!std::isfinite(z[i])) {
      note("non_finite_result");
      kept_[i] = 0;
      ++dropped;
    }
  }
  if (by_position && dropped == 0) {  // every asset of the list: the output names it too
    return asset_values_map(Value(list_), Value(std::move(z)));
  }
  std::vector<asset_entry> out;
  out.reserve(m - dropped);
  const Value* source = w.back().v.get();
  for (std::size_t i = 0; i < m; ++i) {
    if (kept_[i]) {
      out.push_back({by_position ? std::string_view(list_->items[i].as_string())
                                 : views_.view(window_ - 1)[i].name,
                     z[i]});
    }
  }
  return make_asset_values(out, source);
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
