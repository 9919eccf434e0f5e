#pragma once
// eigen_scanner{windows = [50, 150], short = 50, long = 150} on scans (design §8).
//
// For each window W: the assets with a finite positive price in each of the last W + 1 scans,
// their W log returns, the Pearson correlation matrix (zero-variance assets dropped) and its
// largest eigenvalue λ_max; share = λ_max / n; velocity = λ_max(t) − λ_max(t−1).
// vel_div = velocity(short) − velocity(long). mean_return / up_ratio / down_ratio over the
// last log returns of the assets priced in the last two scans; regime BULL (up ≥ 0.60),
// BEAR (down ≥ 0.55) or SIDEWAYS. Degenerate cases, the state kept and the cost:
// docs/kinds.md (eigen_scanner).
//
// Output: {windows: [int], lambda_max: [f64], share: [f64], velocity: [f64],
//          n_assets: [int], vel_div, mean_return, up_ratio, down_ratio, regime}.

#include "actors/core/kind_registry.hpp"
#include "actors/eigen_scanner/rolling_moments.hpp"
#include "actors/eigen_scanner/scan_window.hpp"
#include "actors/eigen_scanner/top_eigenvalue.hpp"
#include "actors/eigen_scanner/warm_top_eigenvalue.hpp"

namespace shoal {

kind_info eigen_scanner_kind();

class eigen_scanner_kernel final : public kernel {
 public:
  // windows sorted, unique, >= 2; short_w and long_w members of windows (the kind checks).
  eigen_scanner_kernel(std::vector<std::int64_t> windows, std::int64_t short_w,
                       std::int64_t long_w);

  Value compute(const kernel_input& in) override;
  // Per window: the previous λ_max and n (for velocity), the rolling sums and the warm start
  // of the top eigenvector, bit for bit.
  Value save_state() const override;
  void restore_state(const Value& v) override;

 private:
  struct window_state {
    std::size_t w = 0;
    rolling_moments moments;
    bool has_prev = false;  // the window has produced an output before
    double prev_lambda = 0;
    std::int64_t prev_n = 0;
    // The last power iterate and the assets of its entries (ids, name order): the next
    // bucket's start vector. Empty before the first matrix of two or more assets.
    std::vector<std::uint32_t> vector_ids;
    Eigen::VectorXd vector;
  };
  struct window_result {
    double lambda = 0;
    std::int64_t n = 0;
  };

  window_result scan_window_w(window_state& s);
  double top_of_correlation(window_state& s);
  void reset();

  std::vector<window_state> windows_;
  std::size_t short_index_ = 0, long_index_ = 0;
  scanner_asset_ids ids_;
  scan_window cache_;
  // Reused between buckets to avoid reallocating per call.
  Eigen::MatrixXd corr_;
  top_eigenvalue top_;
  warm_top_eigenvalue warm_;
  std::vector<std::int64_t> position_;  // scratch: asset id → entry of the previous vector
  std::vector<std::uint32_t> set_;
  std::vector<std::size_t> keep_;
};

}  // namespace shoal
