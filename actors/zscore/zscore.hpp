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
  // Fill rows_ (and last_) for the window starting at slot `first`: by position when every
  // slot names one shared list whole (false when they do not), else by name from views_.
  bool rows_by_position(const slot_ring& w, std::size_t first);
  void rows_by_name(std::size_t m);

  std::size_t window_;
  asset_ids ids_;
  view_cache views_;          // each slot parsed once while it is in the window
  std::vector<const double*> rows_;  // per slot: the values of the last slot's assets
  std::vector<double> grid_;         // [slot][asset], NaN where absent (unaligned slots)
  std::vector<double> lo_, hi_, sum_, bad_, ss_;  // per asset of the last slot (sum_: mean)
  const double* last_ = nullptr;                  // the last slot's values, per asset
  std::vector<double> last_xs_;                   // last_'s storage when read by name
  shared_list list_;                              // the window's list, when read by position
  std::vector<char> kept_;                        // per asset: scored (not left out with a note)
  struct slot_list {  // a slot's payload, its shared list and values (or nulls)
    value_ptr v;
    const shared_names* list = nullptr;
    const double* xs = nullptr;
  };
  std::vector<slot_list> held_, next_;  // the window's, read by position
};

}  // namespace shoal
