#pragma once
// Value: the dynamic payload type of shoal. It maps 1:1 onto MessagePack:
// nil | bool | int64 | double | string | f64 vector | list<Value> | map<string,Value>.
// Map keys are kept sorted (std::map), so encoding a Value is canonical.
//
// A list comes in two forms that behave the same (is_list, as_list, ==, encoding): owned, or a
// shared immutable one (shared_list). Asset-name lists are shared: every scan of a stable
// universe and every vector output derived from it hold the same list object (see
// messages/shared_lists.hpp), so copying a payload or an output copies a pointer, not 48
// strings, and two equal lists are usually one object.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace shoal {

struct Value;

using value_list = std::vector<Value>;
using value_map = std::map<std::string, Value, std::less<>>;
using f64_vector = std::vector<double>;
struct shared_names;  // an interned list of names (below)
using shared_list = std::shared_ptr<const shared_names>;

struct Value {
  using variant_type = std::variant<std::monostate, bool, std::int64_t, double, std::string,
                                    f64_vector, value_list, value_map, shared_list>;
  variant_type v;

  Value() = default;
  Value(std::monostate) {}
  Value(bool b) : v(b) {}
  Value(int i) : v(static_cast<std::int64_t>(i)) {}
  Value(std::int64_t i) : v(i) {}
  Value(std::uint64_t i) : v(static_cast<std::int64_t>(i)) {}
  Value(double d) : v(d) {}
  Value(const char* s) : v(std::string(s)) {}
  Value(std::string s) : v(std::move(s)) {}
  Value(f64_vector x) : v(std::move(x)) {}
  Value(value_list x) : v(std::move(x)) {}
  Value(value_map x) : v(std::move(x)) {}
  Value(shared_list x) : v(std::move(x)) {}  // x must not be null (intern_name_list)

  bool is_nil() const { return std::holds_alternative<std::monostate>(v); }
  bool is_bool() const { return std::holds_alternative<bool>(v); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(v); }
  bool is_double() const { return std::holds_alternative<double>(v); }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_f64_vector() const { return std::holds_alternative<f64_vector>(v); }
  bool is_list() const {
    return std::holds_alternative<value_list>(v) || std::holds_alternative<shared_list>(v);
  }
  bool is_map() const { return std::holds_alternative<value_map>(v); }

  bool as_bool() const { return std::get<bool>(v); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v); }
  double as_double() const { return std::get<double>(v); }
  // Int or double as double.
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : as_double(); }
  const std::string& as_string() const { return std::get<std::string>(v); }
  const f64_vector& as_f64_vector() const { return std::get<f64_vector>(v); }
  inline const value_list& as_list() const;
  // The shared form of this list, or null when it is owned (or not a list).
  const shared_list* as_shared_list() const { return std::get_if<shared_list>(&v); }
  const value_map& as_map() const { return std::get<value_map>(v); }
  value_map& as_map() { return std::get<value_map>(v); }

  // Map lookup; nullptr when this is not a map or the key is absent.
  const Value* find(std::string_view key) const;

  // Name of the held type, for error messages ("nil", "bool", "int", ...).
  const char* type_name() const;

  // A shared and an owned list with the same elements are equal.
  friend bool operator==(const Value& a, const Value& b) {
    if (a.is_list() && b.is_list())
      return &a.as_list() == &b.as_list() || a.as_list() == b.as_list();
    return a.v == b.v;
  }
};

// A shared list's contents: strings only, built once by intern_name_list
// (messages/shared_lists.hpp), with what readers would otherwise re-check per payload.
struct shared_names {
  value_list items;
  bool ascending = false;  // strictly ascending names (std::string order)
  // The list's MessagePack bytes, written once, so every output holding the list encodes it
  // with one copy (empty: encode element by element).
  std::string encoded;
};

inline const value_list& Value::as_list() const {
  if (const auto* s = std::get_if<shared_list>(&v)) return (*s)->items;
  return std::get<value_list>(v);
}

// Immutable payloads are shared between actors without copies.
using value_ptr = std::shared_ptr<const Value>;

inline value_ptr make_value(Value v) { return std::make_shared<const Value>(std::move(v)); }

// Approximate heap + inline bytes held by a value, payloads included (for window metrics).
std::size_t resident_bytes(const Value& v);

}  // namespace shoal
