#include "actors/eigen_scanner/top_eigenvalue.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace shoal {

double top_eigenvalue::compute(const Eigen::MatrixXd& a) {
  const Eigen::Index n = a.rows();
  if (n == 1) return a(0, 0);
  if (!a.allFinite()) return std::numeric_limits<double>::quiet_NaN();
  tri_.compute(a);
  diag_ = tri_.diagonal();
  const Eigen::VectorXd off = tri_.subDiagonal();
  off2_ = off.array().square();

  // Gershgorin bounds of the tridiagonal: every eigenvalue lies in [lo, hi].
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double r = (i > 0 ? std::abs(off(i - 1)) : 0.0) + (i + 1 < n ? std::abs(off(i)) : 0.0);
    lo = std::min(lo, diag_(i) - r);
    hi = std::max(hi, diag_(i) + r);
  }
  // A little slack so the strict inequalities below hold at the ends.
  const double slack =
      4 * std::numeric_limits<double>::epsilon() * std::max(std::abs(lo), std::abs(hi)) +
      std::numeric_limits<double>::min();
  lo -= slack;
  hi += slack;

  // Sturm count: how many eigenvalues are < x. A pivot too close to 0 is replaced by −pivmin
  // (dstebz), which keeps the recurrence finite without changing the count's meaning.
  const double pivmin =
      std::numeric_limits<double>::min() * std::max(1.0, off2_.size() ? off2_.maxCoeff() : 0.0);
  auto below = [&](double x) {
    Eigen::Index count = 0;
    double q = diag_(0) - x;
    if (std::abs(q) < pivmin) q = -pivmin;
    count += q < 0;
    for (Eigen::Index i = 1; i < n; ++i) {
      q = diag_(i) - x - off2_(i - 1) / q;
      if (std::abs(q) < pivmin) q = -pivmin;
      count += q < 0;
    }
    return count;
  };

  // Invariant: at least one eigenvalue ≥ lo, all eigenvalues < hi. Halve until the two are
  // adjacent doubles.
  for (;;) {
    const double mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi)) break;
    if (below(mid) == n)
      hi = mid;
    else
      lo = mid;
  }
  return lo + (hi - lo) / 2;
}

}  // namespace shoal
