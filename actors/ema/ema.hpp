#pragma once
#include "actors/core/asset_values.hpp"
#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// ema{span}: alpha = 2/(span+1), ema_0 = x_0, ema_t = alpha x_t + (1-alpha) ema_{t-1} per asset
// (pandas ewm(span, adjust=False)). An asset's recursion starts at its first value and keeps
// its state across buckets where the asset is absent.
kind_info ema_kind();

class ema_kernel final : public kernel {
 public:
  explicit ema_kernel(std::int64_t span) : alpha_(2.0 / (static_cast<double>(span) + 1.0)) {}
  Value compute(const kernel_input& in) override;
  Value save_state() const override;
  void restore_state(const Value& v) override;

 private:
  double alpha_;
  asset_map state_;
  std::vector<asset_entry> cur_;
  // The last input's whole shared list and, by its positions, the addresses of the assets'
  // states in state_ (null list: none; the next input takes the general path).
  shared_list list_;
  std::vector<double*> slots_;
};

}  // namespace shoal
