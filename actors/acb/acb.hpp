#pragma once
#include <cstddef>
#include <cstdint>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// acb{vol_window=20, vol_threshold=0.001, short=50} on eigen_scanner outputs (design §8):
//   stress = [share of window `short` >= 0.5] + [|vel_div| >= 0.02]
//          + [sample std of the last vol_window mean_returns >= vol_threshold]   (0..3)
//   beta = [1.0, 0.85, 0.55, 0.25][stress], boost = 1 + 0.5 ln(1 + (3 - stress)).
// Output {boost, beta, stress}. Anything unreadable (window `short` absent, a non-finite or
// missing field, a slot of the window without a mean_return) gives nil and a note.
kind_info acb_kind();

// The pure mapping from stress (0..3) to the output, shared with tests and the mirror.
double acb_beta(std::int64_t stress);
double acb_boost(std::int64_t stress);
Value acb_value(std::int64_t stress);

class acb_kernel final : public kernel {
 public:
  acb_kernel(std::size_t vol_window, double vol_threshold, std::int64_t short_window)
      : vol_window_(vol_window), vol_threshold_(vol_threshold), short_(short_window) {}
  Value compute(const kernel_input& in) override;

 private:
  std::size_t vol_window_;
  double vol_threshold_;
  std::int64_t short_;
};

}  // namespace shoal
