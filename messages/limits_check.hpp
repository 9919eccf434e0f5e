#pragma once
// The checks decode_limits asks of every decoder (msgpack and JSON alike): numbers finite
// unless allowed, nesting no deeper than max_depth. Each throws decode_error naming the field.

#include <cstddef>

#include "messages/field_path.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

double require_finite(double x, const decode_limits& limits, const field_path& at);
void require_depth(std::size_t depth, const decode_limits& limits, const field_path& at);

}  // namespace shoal
