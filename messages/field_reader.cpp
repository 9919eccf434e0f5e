#include "messages/field_reader.hpp"

#include "messages/field_path.hpp"

namespace shoal {

std::string element_field(std::string_view name, std::size_t i) {
  std::string out(name);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

void throw_wrong_type(std::string_view field, std::string_view what, const Value& got) {
  throw decode_error(error_kind::wrong_type, std::string(field),
                     "expected " + std::string(what) + ", got " + got.type_name());
}

const value_map& require_map(const Value& v, std::string_view field) {
  if (!v.is_map()) throw_wrong_type(field, "a map", v);
  return v.as_map();
}

const Value& require_field(const value_map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end())
    throw decode_error(error_kind::missing_field, printable(key), "required field is missing");
  return it->second;
}

const std::string& require_string(const Value& v, std::string_view field) {
  if (!v.is_string()) throw_wrong_type(field, "a string", v);
  return v.as_string();
}

std::int64_t require_int(const Value& v, std::string_view field) {
  if (!v.is_int()) throw_wrong_type(field, "an int", v);
  return v.as_int();
}

std::int64_t require_non_negative_int(const Value& v, std::string_view field) {
  const std::int64_t x = require_int(v, field);
  if (x < 0)
    throw decode_error(error_kind::negative, std::string(field),
                       "must be >= 0, got " + std::to_string(x));
  return x;
}

double require_finite_number(const Value& v, std::string_view field) {
  if (!v.is_number()) throw_wrong_type(field, "a number", v);
  const double x = v.as_number();
  if (!std::isfinite(x))
    throw decode_error(error_kind::non_finite, std::string(field), "must be finite");
  return x;
}

bool is_numeric_array(const Value& v) {
  if (v.is_f64_vector()) return true;
  if (!v.is_list()) return false;
  for (const auto& x : v.as_list())
    if (!x.is_number()) return false;
  return true;
}

}  // namespace shoal
