#include "actors/eigen_scanner/moment_lanes.hpp"

#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SHOAL_MOMENTS_AVX 1
#endif

namespace shoal {

namespace {

void add_scaled_scalar(double* c, double s, const double* x, std::size_t m) {
  for (std::size_t i = 0; i < m; ++i) c[i] += s * x[i];
}

void correlations_scalar(const double* cross, double sum_a, const double* mean, double inv_a,
                         const double* inv, std::size_t m, double* out) {
  for (std::size_t j = 0; j < m; ++j)
    out[j] = std::clamp((cross[j] - sum_a * mean[j]) * inv_a * inv[j], -1.0, 1.0);
}

#if defined(SHOAL_MOMENTS_AVX)
// Each AVX form ends with the scalar form for the last m mod 4 elements. It clears the upper
// halves of the registers first: GCC 12 leaves that out of a tail call, and SSE code run with
// them dirty made the scanner's other loops (Eigen's, SSE) twice as slow on this machine.
__attribute__((target("avx"))) void add_scaled_avx(double* c, double s, const double* x,
                                                   std::size_t m) {
  const __m256d sv = _mm256_set1_pd(s);
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const __m256d p = _mm256_mul_pd(sv, _mm256_loadu_pd(x + i));
    _mm256_storeu_pd(c + i, _mm256_add_pd(_mm256_loadu_pd(c + i), p));
  }
  _mm256_zeroupper();
  add_scaled_scalar(c + i, s, x + i, m - i);
}

// std::clamp(v, lo, hi) is std::min(std::max(v, lo), hi): v < lo ? lo : v, then
// hi < u ? hi : u. vmaxpd(a, b) is a > b ? a : b and vminpd(a, b) is a < b ? a : b, so
// vmaxpd(lo, v) and vminpd(hi, u) make the same choices, a NaN passing through.
__attribute__((target("avx"))) void correlations_avx(const double* cross, double sum_a,
                                                     const double* mean, double inv_a,
                                                     const double* inv, std::size_t m,
                                                     double* out) {
  const __m256d sa = _mm256_set1_pd(sum_a), ia = _mm256_set1_pd(inv_a);
  const __m256d lo = _mm256_set1_pd(-1.0), hi = _mm256_set1_pd(1.0);
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    const __m256d d =
        _mm256_sub_pd(_mm256_loadu_pd(cross + j), _mm256_mul_pd(sa, _mm256_loadu_pd(mean + j)));
    const __m256d v = _mm256_mul_pd(_mm256_mul_pd(d, ia), _mm256_loadu_pd(inv + j));
    _mm256_storeu_pd(out + j, _mm256_min_pd(hi, _mm256_max_pd(lo, v)));
  }
  _mm256_zeroupper();
  correlations_scalar(cross + j, sum_a, mean + j, inv_a, inv + j, m - j, out + j);
}
#endif

}  // namespace

void add_scaled(double* c, double s, const double* x, std::size_t m, bool avx) {
#if defined(SHOAL_MOMENTS_AVX)
  if (avx) {
    add_scaled_avx(c, s, x, m);
    return;
  }
#endif
  (void)avx;
  add_scaled_scalar(c, s, x, m);
}

void correlations(const double* cross, double sum_a, const double* mean, double inv_a,
                  const double* inv, std::size_t m, double* out, bool avx) {
#if defined(SHOAL_MOMENTS_AVX)
  if (avx) {
    correlations_avx(cross, sum_a, mean, inv_a, inv, m, out);
    return;
  }
#endif
  (void)avx;
  correlations_scalar(cross, sum_a, mean, inv_a, inv, m, out);
}

}  // namespace shoal
