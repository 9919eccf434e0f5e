#pragma once
// CHECK_DECODE_ERROR(expr, kind, field): expr must throw shoal::decode_error of that kind
// naming that field. A macro so Catch reports the caller's line.

#include <catch2/catch.hpp>
#include <string>

#include "messages/decode_error.hpp"

#define CHECK_DECODE_ERROR(expr, kind_, field_)                                   \
  do {                                                                            \
    try {                                                                         \
      static_cast<void>(expr);                                                    \
      FAIL_CHECK("expected decode_error " << shoal::to_string(kind_));            \
    } catch (const shoal::decode_error& e_) {                                     \
      INFO("what(): " << e_.what());                                              \
      CHECK(std::string(shoal::to_string(e_.kind())) == shoal::to_string(kind_)); \
      CHECK(e_.field() == std::string(field_));                                   \
    }                                                                             \
  } while (false)
