#pragma once
#include <vector>

#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// asset_selector{window=20} on scans (period window + 1): for every asset with a price in all
// window + 1 slots, z = (r_last - mean) / sample std of its `window` log returns (std 0 gives
// z = 0). Emits {asset, z, direction} for the largest |z| (ties: smallest name), direction
// "SHORT" if z > 0 else "LONG"; nil when no asset qualifies.
kind_info asset_selector_kind();

class asset_selector_kernel final : public kernel {
 public:
  explicit asset_selector_kernel(std::size_t window) : window_(window) {}
  Value compute(const kernel_input& in) override;

 private:
  std::size_t window_;
  // Scratch reused across buckets (not state).
  asset_ids ids_;
  view_cache views_;               // aux: log of each price (NaN where the price is not > 0)
  std::vector<double> lp_, r_;     // lp_: [asset id][slot] log prices
  std::vector<std::size_t> seen_;  // slots holding a usable price, by id
};

}  // namespace shoal
