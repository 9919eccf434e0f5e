#pragma once
// moment_lanes: rolling_moments' two costliest loops, in a scalar form and an AVX form that
// give the same bits. Each element is computed on its own, with exactly the scalar operations
// in the scalar order, however many lanes run at once (AVX has no fused multiply-add; FMA3 is
// not asked for), so the outputs do not depend on the CPU. `avx` picks the AVX form; pass
// cpu_has_avx() (the AVX form on a CPU without it would not run).

#include <cstddef>

namespace shoal {

// c[i] += s · x[i] for i < m.
void add_scaled(double* c, double s, const double* x, std::size_t m, bool avx);

// out[j] = clamp((cross[j] − sum_a · mean[j]) · inv_a · inv[j], −1, 1) for j < m: one row of a
// correlation matrix from the running sums (std::clamp's choices, a NaN passing through).
void correlations(const double* cross, double sum_a, const double* mean, double inv_a,
                  const double* inv, std::size_t m, double* out, bool avx);

}  // namespace shoal
