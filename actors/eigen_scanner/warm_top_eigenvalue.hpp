#pragma once
// warm_top_eigenvalue: the largest eigenvalue of a symmetric matrix by power iteration from a
// warm start (the previous bucket's eigenvector), returned only with a proof that it is within
// 1e-14 relative of the true λ_max (plus the rounding of θ itself, ≈ n·ε); otherwise the caller
// runs the exact path (top_eigenvalue). decisions.md asks for a proof of 1e-10; the tighter
// bound costs two or three more products and keeps velocity, a difference of two λ_max, as
// accurate as the exact path's (its absolute error would otherwise reach 1e-9).
//
// Why it is cheap: a window gains one row and loses one per bucket, so its correlation matrix
// and top eigenvector barely move, and a market with a common factor separates λ_max from the
// rest by a wide gap. A few 48×48 matrix-vector products (≈ 0.3 µs each) replace the
// Householder tridiagonalization (≈ 16 µs) and the bisection.
//
// The proof, for the unit iterate y, z = A y, θ = yᵀz and r = ‖z − θy‖:
//   - θ ≤ λ_max (Rayleigh quotient);
//   - any unit x = c·y + s·u with u ⊥ y has xᵀAx ≤ c²θ + 2|cs|·r + s²·μ, where μ ≥ λ_max of A on
//     y⊥; μ = ‖PAP‖_F (P = I − yyᵀ) and ‖PAP‖_F² = ‖A‖_F² − 2‖z‖² + θ² costs nothing extra.
//     So λ_max ≤ the top eigenvalue of [[θ, r], [r, μ]], i.e. λ_max − θ ≤ r² / (h + √(h² + r²))
//     with h = (θ − μ) / 2 > 0.
// The bound is quadratic in r, so the rounding of r and μ hardly moves it; what limits the
// accuracy is the rounding of θ itself (≈ n·ε: 5e-15 at 48 assets, so beyond about 90 assets
// the guarantee is n·ε rather than 1e-14). Deterministic: fixed operation order, the start
// vector is kernel state (checkpointed).
//
// It gives up early when it cannot move (r = 0 without a proof: the start is an eigenvector of
// a lower eigenvalue) and when, after give_up_after products, θ is still below μ (no dominant
// factor: the iteration would crawl).

#include <Eigen/Core>

namespace shoal {

class warm_top_eigenvalue {
 public:
  static constexpr double proof_tolerance = 1e-14;  // λ_max − θ ≤ this · θ when proven
  static constexpr int max_iterations = 24;
  static constexpr int give_up_after = 8;

  struct result {
    bool proven = false;  // false: the caller must run the exact path
    double lambda = 0;    // θ, when proven
    int iterations = 0;   // matrix-vector products spent
  };

  // a symmetric (every entry read), at least 2×2, finite. y: the start vector, any nonzero
  // direction of a.rows() entries; on return the last iterate (normalised), the warm start for
  // the next bucket.
  result compute(const Eigen::MatrixXd& a, Eigen::VectorXd& y);

 private:
  Eigen::VectorXd z_, residual_;
};

}  // namespace shoal
