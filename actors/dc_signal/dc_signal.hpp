#pragma once
#include <cstdint>
#include <deque>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// dc_signal{lookback=7, confirm_bps=2, contradict_bps=5}: ports `select` (asset_selector
// outputs) and `scan`, period 1 each. The kernel keeps the last lookback + 1 scans it has seen
// (checkpointed), so it answers INSUFFICIENT while history is short instead of holding the
// node in warm-up. change = (p_t / p_{t-lookback} - 1) * 1e4 bps for the selected asset;
// SHORT: change <= -confirm CONFIRM, change >= contradict SKIP_CONTRADICT, else NEUTRAL; LONG
// mirrored. Output {asset, direction, change_bps, status}; change_bps is nil unless computed.
kind_info dc_signal_kind();

class dc_signal_kernel final : public kernel {
 public:
  dc_signal_kernel(std::size_t lookback, double confirm_bps, double contradict_bps)
      : lookback_(lookback), confirm_(confirm_bps), contradict_(contradict_bps) {}
  Value compute(const kernel_input& in) override;
  Value save_state() const override;
  void restore_state(const Value& v) override;

 private:
  struct past_scan {
    std::int64_t bucket;
    value_ptr scan;  // shared with the window: scans are immutable, no copy needed
  };
  std::size_t lookback_;
  double confirm_, contradict_;
  std::deque<past_scan> history_;  // state: oldest first, at most lookback + 1
};

}  // namespace shoal
