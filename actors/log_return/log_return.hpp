#pragma once
#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// log_return: r = ln(p_t / p_{t-1}) per asset, over the last two buckets of its input.
kind_info log_return_kind();

// The kernel's arithmetic, for tests: assets present in both with positive finite values.
class log_return_kernel final : public kernel {
 public:
  Value compute(const kernel_input& in) override;

 private:
  std::vector<asset_entry> prev_, cur_;  // reused buffers, no per-bucket allocation
  value_ptr held_;                       // the payload cur_ views (null: cur_ is stale)
};

}  // namespace shoal
