#pragma once
#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// zscore{window}: (x_t - mean) / std over the last `window` values per asset, std the sample
// std (ddof = 1); std = 0 (all values equal) gives 0. An asset is scored only when it has a
// value in every slot of the window.
kind_info zscore_kind();

class zscore_kernel final : public kernel {
 public:
  explicit zscore_kernel(std::size_t window) : window_(window) {}
  Value compute(const kernel_input& in) override;

 private:
  template <std::size_t B>
  void window_moments(std::size_t i);

  std::size_t window_;
  asset_ids ids_;
  view_cache views_;          // each slot parsed once while it is in the window
  std::vector<const double*> rows_;  // per slot: the values of the last slot's assets
  std::vector<double> grid_;         // [slot][asset], NaN where absent (unaligned slots)
  std::vector<double> lo_, hi_, sum_, bad_, ss_;  // per asset of the last slot (sum_: mean)
};

}  // namespace shoal
