#include "messages/decode_error.hpp"

#include <utility>

namespace shoal {

const char* to_string(error_kind kind) {
  switch (kind) {
    case error_kind::not_msgpack:
      return "not_msgpack";
    case error_kind::truncated:
      return "truncated";
    case error_kind::trailing_bytes:
      return "trailing_bytes";
    case error_kind::oversized:
      return "oversized";
    case error_kind::too_deep:
      return "too_deep";
    case error_kind::wrong_type:
      return "wrong_type";
    case error_kind::missing_field:
      return "missing_field";
    case error_kind::non_finite:
      return "non_finite";
    case error_kind::negative:
      return "negative";
    case error_kind::length_mismatch:
      return "length_mismatch";
    case error_kind::out_of_range:
      return "out_of_range";
    case error_kind::duplicate_key:
      return "duplicate_key";
  }
  return "unknown";
}

namespace {
std::string render(const std::string& field, const std::string& message) {
  return field.empty() ? message : field + ": " + message;
}
}  // namespace

decode_error::decode_error(error_kind kind, std::string field, std::string message)
    : std::runtime_error(render(field, message)), kind_(kind), field_(std::move(field)) {}

}  // namespace shoal
