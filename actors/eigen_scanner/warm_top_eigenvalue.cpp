#include "actors/eigen_scanner/warm_top_eigenvalue.hpp"

#include <algorithm>
#include <cmath>

namespace shoal {

warm_top_eigenvalue::result warm_top_eigenvalue::compute(const Eigen::MatrixXd& a,
                                                         Eigen::VectorXd& y) {
  result out;
  double norm = y.norm();
  if (!(norm > 0) || !std::isfinite(norm)) {
    return out;
  }
  y /= norm;
  const double frobenius2 = a.squaredNorm();
  for (int it = 0; it < max_iterations; ++it) {
    z_.noalias() = a * y;
    ++out.iterations;
    const double theta = y.dot(z_);
    residual_ = z_ - theta * y;
    const double r2 = residual_.squaredNorm();
    const double z2 = z_.squaredNorm();
    // λ_max of A restricted to y⊥ is at most ‖PAP‖_F.
    const double mu = std::sqrt(std::max(0.0, frobenius2 - 2 * z2 + theta * theta));
    if (theta > mu && std::isfinite(theta)) {
      const double h = (theta - mu) / 2;
      const double excess = r2 / (h + std::sqrt(h * h + r2));
      if (excess <= proof_tolerance * theta) {
        out.proven = true;
        out.lambda = theta;
        return out;
      }
    } else if (r2 == 0 || out.iterations >= give_up_after) {
      return out;
    }
    norm = std::sqrt(z2);  // z_.norm(), already squared above
    if (!(norm > 0) || !std::isfinite(norm)) {
      return out;
    }
    y = z_ / norm;
  }
  return out;
}

}  // namespace shoal
