#pragma once
#include <vector>

#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// rolling_vol{window=20}: per asset the sample std (ddof = 1) of its input over the last
// `window` slots (vector values or scans, read by asset name). An asset is scored only when it
// has a usable value in every one of those slots; all-equal values give exactly 0.
kind_info rolling_vol_kind();

class rolling_vol_kernel final : public kernel {
 public:
  explicit rolling_vol_kernel(std::size_t window) : window_(window) {}
  Value compute(const kernel_input& in) override;

 private:
  std::size_t window_;
  // Scratch reused across buckets (not state: rebuilt from the window every call).
  asset_ids ids_;
  view_cache views_;
  std::vector<double> vals_;       // [asset id][slot]
  std::vector<std::size_t> seen_;  // slots holding the asset, by id
};

}  // namespace shoal
