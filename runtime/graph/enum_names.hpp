#pragma once
// One table of names per config enum: parsing, printing and the "must be ..." text of a config
// error all come from it, so they cannot disagree.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace shoal {

template <class E>
struct enum_name {
  E value;
  std::string_view name;  // a string literal: name.data() is NUL-terminated
};

template <class E, std::size_t N>
class enum_names {
 public:
  constexpr explicit enum_names(std::array<enum_name<E>, N> table) : table_(table) {}

  std::optional<E> parse(std::string_view text) const {
    for (const auto& e : table_) {
      if (e.name == text) {
        return e.value;
      }
    }
    return std::nullopt;
  }
  const char* name(E value) const {
    for (const auto& e : table_) {
      if (e.value == value) {
        return e.name.data();
      }
    }
    return "?";
  }
  // "\"a\", \"b\" or \"c\"", in table order.
  std::string choices() const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      out += (i == 0 ? "" : i + 1 == N ? " or " : ", ");
      out += "\"" + std::string(table_[i].name) + "\"";
    }
    return out;
  }

 private:
  std::array<enum_name<E>, N> table_;
};

}  // namespace shoal
