#pragma once
// top_eigenvalue: the largest eigenvalue of a symmetric matrix, and only that.
//
// SelfAdjointEigenSolver(EigenvaluesOnly) spends ~80% of its time (≈ 60 of 75 µs at 48×48)
// in the implicit QR sweeps that find *every* eigenvalue of the tridiagonal form. The scanner
// needs one, so it keeps Eigen's Householder tridiagonalization (backward stable, ≈ 16 µs)
// and finds the top eigenvalue of the tridiagonal by bisection on Sturm counts (LAPACK
// dstebz's method): O(n) per step, ~64 steps to adjacent doubles. Error ≈ a few ulp of ‖A‖,
// like the full solver. Deterministic: fixed operation order, no random start.

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

namespace shoal {

class top_eigenvalue {
 public:
  // a symmetric (only the lower triangle is read), at least 1×1. Returns NaN only if a
  // has non-finite entries.
  double compute(const Eigen::MatrixXd& a);

 private:
  Eigen::Tridiagonalization<Eigen::MatrixXd> tri_;
  Eigen::VectorXd diag_, off2_;  // diagonal and squared sub-diagonal of the tridiagonal form
};

}  // namespace shoal
