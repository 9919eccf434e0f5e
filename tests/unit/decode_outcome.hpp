#pragma once
// decode_outcome: what a decoder made of a frame, its value or the kind and field of the
// decode_error it threw, so that two decoders can be compared value for value and error for
// error.

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "messages/decode_error.hpp"

namespace shoal::testing {

template <class T>
struct decode_outcome {
  std::optional<T> value;
  std::string kind, field;
};

template <class Decode>
auto outcome_of(Decode decode) -> decode_outcome<decltype(decode())> {
  try {
    return {decode(), "", ""};
  } catch (const decode_error& e) {
    return {std::nullopt, to_string(e.kind()), e.field()};
  }
}

// Checks that a decoder did with a frame what the reference did: the same error (kind and
// field), or values that check_same(got, want) finds equal (it CHECKs). 1 when it decoded.
template <class T, class CheckSame>
int agrees(const decode_outcome<T>& got, const decode_outcome<T>& want, CheckSame check_same) {
  CHECK(got.kind == want.kind);
  CHECK(got.field == want.field);
  REQUIRE(got.value.has_value() == want.value.has_value());
  if (!got.value) {
    return 0;
  }
  check_same(*got.value, *want.value);
  return 1;
}

}  // namespace shoal::testing
