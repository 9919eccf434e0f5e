#pragma once
// Reading eigen_scanner's outputs: the kinds downstream of the scanner (acb, mc_forewarner)
// share these, so none of them reaches into another kind's files.

#include <cstddef>
#include <optional>

#include "messages/value.hpp"

namespace shoal {

// Reads element i of a numeric array (an f64_vector or a list of numbers) as a double;
// nullopt when v is not such an array, i is out of range or the element is not a number.
// Shared by the kinds that read eigen_scanner's per-window arrays.
std::optional<double> numeric_element(const Value& v, std::size_t i);
std::size_t numeric_array_size(const Value& v);  // 0 when v is not an array

// eigen_scanner's mean_return as a finite double; nullopt otherwise.
std::optional<double> scanner_mean_return(const Value& scanner_output);

}  // namespace shoal
