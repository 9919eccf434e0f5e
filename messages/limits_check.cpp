#include "messages/limits_check.hpp"

#include <cmath>
#include <string>

#include "messages/decode_error.hpp"

namespace shoal {

double require_finite(double x, const decode_limits& limits, const field_path& at) {
  if (!limits.allow_non_finite && !std::isfinite(x))
    throw decode_error(error_kind::non_finite, at.str(),
                       std::isnan(x) ? "NaN is not allowed" : "infinity is not allowed");
  return x;
}

void require_depth(std::size_t depth, const decode_limits& limits, const field_path& at) {
  if (depth > limits.max_depth)
    throw decode_error(error_kind::too_deep, at.str(),
                       "nesting exceeds " + std::to_string(limits.max_depth) + " levels");
}

}  // namespace shoal
