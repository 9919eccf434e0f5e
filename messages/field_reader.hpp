#pragma once
// Typed reads of fields from a decoded Value, throwing decode_error that names the field.
// Records and payload validators (and kernels reading upstream outputs) share these, so
// the same mistake in any message is reported with the same kind and wording.
// `field` is the already-rendered path of the item being read ("seq", "prices[2]").

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/decode_error.hpp"
#include "messages/value.hpp"

namespace shoal {

// "<name>[<i>]", the path of an element of an array field.
std::string element_field(std::string_view name, std::size_t i);

// Throws wrong_type "expected <what>, got <type>" for field.
[[noreturn]] void throw_wrong_type(std::string_view field, std::string_view what, const Value& got);

// The map held by v; wrong_type otherwise.
const value_map& require_map(const Value& v, std::string_view field);

// map[key]; missing_field (naming key) when absent. A present nil is returned as is.
const Value& require_field(const value_map& map, std::string_view key);

const std::string& require_string(const Value& v, std::string_view field);
std::int64_t require_int(const Value& v, std::string_view field);
// An int >= 0; wrong_type for other types, negative for a negative int.
std::int64_t require_non_negative_int(const Value& v, std::string_view field);
// An int or a double, as double, that must be finite (non_finite otherwise).
double require_finite_number(const Value& v, std::string_view field);

// True when v is an f64_vector or a list of which every element is an int or a double —
// the two forms a numeric array may take on the wire (see msgpack_codec.hpp).
bool is_numeric_array(const Value& v);

// Calls fn(index, x) for each number of a numeric array; wrong_type naming the field (or
// the element, e.g. "prices[2]") when v is not one. Returns the element count.
template <class Fn>
std::size_t for_each_number(const Value& v, std::string_view field, Fn&& fn) {
  if (v.is_f64_vector()) {
    const auto& xs = v.as_f64_vector();
    for (std::size_t i = 0; i < xs.size(); ++i) fn(i, xs[i]);
    return xs.size();
  }
  if (!v.is_list()) throw_wrong_type(field, "an array of numbers", v);
  const auto& xs = v.as_list();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].is_number()) throw_wrong_type(element_field(field, i), "a number", xs[i]);
    fn(i, xs[i].as_number());
  }
  return xs.size();
}

}  // namespace shoal
