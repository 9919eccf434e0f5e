#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

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

// Reads element i of a numeric array (an f64_vector or a list of numbers) as a double;
// nullopt when v is not such an array, i is out of range or the element is not a number.
// Shared by the kinds that read eigen_scanner's per-window arrays.
std::optional<double> numeric_element(const Value& v, std::size_t i);
std::size_t numeric_array_size(const Value& v);  // 0 when v is not an array

// eigen_scanner's mean_return as a finite double; nullopt otherwise.
std::optional<double> scanner_mean_return(const Value& scanner_output);

}  // namespace shoal
