// Value ↔ MessagePack: canonical encoding, round trips, every decode error kind with its
// field path, and robustness against truncated, oversized, deep and random input.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "messages/msgpack_codec.hpp"
#include "tests/unit/decode_error_check.hpp"

using namespace shoal;
using namespace std::string_literals;

namespace {

void check_round_trip(const Value& v) {
  const std::string bytes = to_msgpack(v);
  const Value back = from_msgpack(bytes);
  CHECK(back == v);
  CHECK(to_msgpack(back) == bytes);
}

// A value touching every alternative, nested.
Value sample_value() {
  value_map inner{{"flag", true},
                  {"nil", Value{}},
                  {"prices", f64_vector{101.5, 99.25, 1e-9}},
                  {"names", value_list{"BTC", "ETH"}}};
  value_map m{{"n", std::int64_t{-42}},
              {"big", std::numeric_limits<std::int64_t>::max()},
              {"x", 3.5},
              {"s", "hello"},
              {"mixed", value_list{1, 2.5, "three", Value{}, false, value_list{}}},
              {"inner", inner},
              {"empty", value_map{}}};
  return Value(m);
}

}  // namespace

TEST_CASE("known bytes of a one-key map", "[msgpack]") {
  CHECK(to_msgpack(Value(value_map{{"a", 1}})) ==
        "\x81\xa1"
        "a\x01"s);
}

TEST_CASE("scalars use the canonical forms", "[msgpack]") {
  CHECK(to_msgpack(Value{}) == "\xc0"s);
  CHECK(to_msgpack(Value(true)) == "\xc3"s);
  CHECK(to_msgpack(Value(false)) == "\xc2"s);
  CHECK(to_msgpack(Value(0)) == "\x00"s);
  CHECK(to_msgpack(Value(127)) == "\x7f"s);
  CHECK(to_msgpack(Value(128)) == "\xcc\x80"s);
  CHECK(to_msgpack(Value(256)) == "\xcd\x01\x00"s);
  CHECK(to_msgpack(Value(-1)) == "\xff"s);
  CHECK(to_msgpack(Value(-32)) == "\xe0"s);
  CHECK(to_msgpack(Value(-33)) == "\xd0\xdf"s);
  CHECK(to_msgpack(Value(std::numeric_limits<std::int64_t>::min())) ==
        "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"s);
  // Doubles are always float64, even when float32 or an int would hold them exactly.
  CHECK(to_msgpack(Value(1.5)) == "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"s);
  CHECK(to_msgpack(Value(1.0)) == "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"s);
  CHECK(to_msgpack(Value(-0.0)) == "\xcb\x80\x00\x00\x00\x00\x00\x00\x00"s);
  CHECK(from_msgpack(to_msgpack(Value(2.0))).is_double());
  CHECK(to_msgpack(Value("")) == "\xa0"s);
  CHECK(to_msgpack(Value(f64_vector{1.5})) == "\x91\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"s);
  CHECK(to_msgpack(Value(value_list{})) == "\x90"s);
  CHECK(to_msgpack(Value(value_map{})) == "\x80"s);
}

TEST_CASE("every Value alternative round trips", "[msgpack]") {
  check_round_trip(Value{});
  check_round_trip(Value(true));
  check_round_trip(Value(false));
  for (std::int64_t i : {std::int64_t{0},
                         std::int64_t{1},
                         std::int64_t{127},
                         std::int64_t{128},
                         std::int64_t{255},
                         std::int64_t{256},
                         std::int64_t{65535},
                         std::int64_t{65536},
                         std::int64_t{4294967295},
                         std::int64_t{4294967296},
                         std::int64_t{-1},
                         std::int64_t{-32},
                         std::int64_t{-33},
                         std::int64_t{-128},
                         std::int64_t{-129},
                         std::int64_t{-32768},
                         std::int64_t{-32769},
                         std::int64_t{-2147483648LL},
                         std::int64_t{-2147483649LL},
                         std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()}) {
    INFO(i);
    check_round_trip(Value(i));
  }
  for (double d : {0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, std::numeric_limits<double>::max()})
    check_round_trip(Value(d));
  check_round_trip(Value(""));
  check_round_trip(Value(std::string(31, 'a')));
  check_round_trip(Value(std::string(32, 'b')));
  check_round_trip(Value(std::string(300, 'c')));
  check_round_trip(Value(std::string(70000, 'd')));
  check_round_trip(Value("nul\0inside"s));
  check_round_trip(Value(f64_vector{1.0, -2.5, 3e10}));
  check_round_trip(Value(value_list{1, "a", Value{}}));
  check_round_trip(Value(value_list{}));
  check_round_trip(Value(value_map{}));
  check_round_trip(sample_value());
  check_round_trip(Value(value_list{sample_value(), sample_value()}));
}

TEST_CASE("array decoding rule: non-empty all-float arrays become f64_vector", "[msgpack]") {
  // A list of doubles and an f64_vector are the same bytes; both decode to f64_vector.
  const Value list_of_doubles(value_list{1.0, 2.0});
  CHECK(to_msgpack(list_of_doubles) == to_msgpack(Value(f64_vector{1.0, 2.0})));
  CHECK(from_msgpack(to_msgpack(list_of_doubles)).is_f64_vector());
  // Any int makes it a list.
  const Value mixed = from_msgpack(to_msgpack(Value(value_list{1, 2.0})));
  REQUIRE(mixed.is_list());
  CHECK(mixed.as_list()[0].is_int());
  // Empty arrays are lists, whatever encoded them.
  CHECK(from_msgpack(to_msgpack(Value(f64_vector{}))) == Value(value_list{}));
  // float32 is widened.
  const Value widened = from_msgpack("\x92\xca\x3f\xc0\x00\x00\xca\x40\x20\x00\x00"s);
  CHECK(widened == Value(f64_vector{1.5, 2.5}));
  CHECK(from_msgpack("\xca\x3f\xc0\x00\x00"s) == Value(1.5));
}

TEST_CASE("map keys are encoded in order regardless of insertion", "[msgpack]") {
  value_map a;
  a.emplace("zeta", 1);
  a.emplace("alpha", 2);
  a.emplace("mid", 3);
  value_map b;
  b.emplace("mid", 3);
  b.emplace("alpha", 2);
  b.emplace("zeta", 1);
  CHECK(to_msgpack(Value(a)) == to_msgpack(Value(b)));
  CHECK(to_msgpack(Value(a)) ==
        "\x83\xa5"
        "alpha\x02\xa3mid\x03\xa4zeta\x01"s);
  // A frame with keys out of order decodes, and re-encodes canonically.
  const std::string unordered =
      "\x82\xa1"
      "b\x01\xa1"
      "a\x02"s;
  const Value v = from_msgpack(unordered);
  CHECK(v == Value(value_map{{"a", 2}, {"b", 1}}));
  CHECK(to_msgpack(v) ==
        "\x82\xa1"
        "a\x02\xa1"
        "b\x01"s);
}

TEST_CASE("append_msgpack appends", "[msgpack]") {
  std::string out = "prefix";
  append_msgpack(out, Value(1));
  CHECK(out == "prefix\x01"s);
}

TEST_CASE("frame-level errors", "[msgpack][errors]") {
  CHECK_DECODE_ERROR(from_msgpack(""), error_kind::truncated, "");
  CHECK_DECODE_ERROR(from_msgpack("\xcd\x01"s), error_kind::truncated, "");
  CHECK_DECODE_ERROR(from_msgpack("\x01\x02"s), error_kind::trailing_bytes, "");
  CHECK_DECODE_ERROR(from_msgpack("\xc1"s), error_kind::not_msgpack, "");
  CHECK_DECODE_ERROR(from_msgpack("\x92\x01\xc1"s), error_kind::not_msgpack, "");
  // Headers that claim far more than the frame holds are cut-off frames, and must not
  // make the decoder allocate for the claim.
  CHECK_DECODE_ERROR(from_msgpack("\xdd\xff\xff\xff\xff"s), error_kind::truncated, "");
  CHECK_DECODE_ERROR(from_msgpack("\xdf\xff\xff\xff\xff"s), error_kind::truncated, "");
  CHECK_DECODE_ERROR(from_msgpack("\xdb\xff\xff\xff\xff"s), error_kind::truncated, "");
  CHECK_DECODE_ERROR(from_msgpack("\xc6\xff\xff\xff\xff"s), error_kind::truncated, "");
}

TEST_CASE("oversized frames", "[msgpack][errors]") {
  decode_limits small;
  small.max_bytes = 10;
  const std::string ten = to_msgpack(Value(std::string(9, 'x')));  // 1 header + 9 bytes
  REQUIRE(ten.size() == 10);
  CHECK(from_msgpack(ten, small) == Value(std::string(9, 'x')));
  CHECK_DECODE_ERROR(from_msgpack(to_msgpack(Value(std::string(10, 'x'))), small),
                     error_kind::oversized, "");
  // The default limit is 1 MiB.
  const std::string big = to_msgpack(Value(std::string(1 << 20, 'y')));
  CHECK_DECODE_ERROR(from_msgpack(big), error_kind::oversized, "");
}

TEST_CASE("non-Value MessagePack types are wrong_type at their path", "[msgpack][errors]") {
  CHECK_DECODE_ERROR(from_msgpack("\xc4\x01x"s), error_kind::wrong_type, "");     // bin
  CHECK_DECODE_ERROR(from_msgpack("\xd4\x01\x00"s), error_kind::wrong_type, "");  // fixext1
  CHECK_DECODE_ERROR(from_msgpack("\x92\x01\xc4\x00"s), error_kind::wrong_type, "[1]");
  CHECK_DECODE_ERROR(from_msgpack("\x81\xa1"
                                  "b\xc4\x00"s),
                     error_kind::wrong_type, "b");
}

TEST_CASE("map keys must be unique strings", "[msgpack][errors]") {
  CHECK_DECODE_ERROR(from_msgpack("\x81\x01\x02"s), error_kind::wrong_type, "");
  CHECK_DECODE_ERROR(from_msgpack("\x81\xa1m\x81\x01\x02"s), error_kind::wrong_type, "m");
  CHECK_DECODE_ERROR(from_msgpack("\x82\xa1"
                                  "a\x01\xa1"
                                  "a\x02"s),
                     error_kind::duplicate_key, "a");
  CHECK_DECODE_ERROR(from_msgpack("\x81\xa1m\x82\xa1"
                                  "a\x01\xa1"
                                  "a\x02"s),
                     error_kind::duplicate_key, "m.a");
}

TEST_CASE("unsigned ints above INT64_MAX are out_of_range", "[msgpack][errors]") {
  CHECK_DECODE_ERROR(from_msgpack("\x81\xa1n\xcf\xff\xff\xff\xff\xff\xff\xff\xff"s),
                     error_kind::out_of_range, "n");
  CHECK(from_msgpack("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"s) ==
        Value(std::numeric_limits<std::int64_t>::max()));
}

TEST_CASE("non-finite doubles are rejected at their path unless allowed", "[msgpack][errors]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::string vec = to_msgpack(Value(value_map{{"xs", f64_vector{1.0, nan}}}));
  CHECK_DECODE_ERROR(from_msgpack(vec), error_kind::non_finite, "xs[1]");
  const std::string list = to_msgpack(Value(value_map{{"xs", value_list{1, -inf}}}));
  CHECK_DECODE_ERROR(from_msgpack(list), error_kind::non_finite, "xs[1]");
  CHECK_DECODE_ERROR(from_msgpack(to_msgpack(Value(inf))), error_kind::non_finite, "");
  CHECK_DECODE_ERROR(from_msgpack("\xca\x7f\xc0\x00\x00"s), error_kind::non_finite, "");  // f32 NaN
  const std::string deep =
      to_msgpack(Value(value_map{{"payload", value_map{{"prices", f64_vector{1, 2, 3, nan}}}}}));
  CHECK_DECODE_ERROR(from_msgpack(deep), error_kind::non_finite, "payload.prices[3]");

  decode_limits lax;
  lax.allow_non_finite = true;
  const Value v = from_msgpack(vec, lax);
  CHECK(std::isnan(v.find("xs")->as_f64_vector()[1]));
}

TEST_CASE("nesting depth is limited", "[msgpack][errors]") {
  auto nested = [](std::size_t levels, const std::string& innermost) {
    return std::string(levels, '\x91') + innermost;
  };
  // 32 containers deep is allowed by default; 33 is not.
  CHECK_NOTHROW(from_msgpack(nested(31, "\x91\xc0")));
  CHECK_DECODE_ERROR(from_msgpack(nested(32, "\x91\xc0")), error_kind::too_deep, "");
  // An empty container counts as a level too.
  CHECK_NOTHROW(from_msgpack(nested(31, "\x90")));
  try {
    from_msgpack(nested(32, "\x90"));
    FAIL("expected too_deep");
  } catch (const decode_error& e) {
    CHECK(e.kind() == error_kind::too_deep);
  }
  // Maps count the same as arrays.
  std::string maps;
  for (int i = 0; i < 33; ++i) maps += "\x81\xa1k";
  maps += "\xc0";
  CHECK_DECODE_ERROR(from_msgpack(maps), error_kind::too_deep, "");

  decode_limits shallow;
  shallow.max_depth = 2;
  CHECK_NOTHROW(from_msgpack("\x91\x91\x01"s, shallow));
  CHECK_DECODE_ERROR(from_msgpack("\x91\x91\x91\x01"s, shallow), error_kind::too_deep, "");
  CHECK_DECODE_ERROR(from_msgpack("\x91\x91\x90"s, shallow), error_kind::too_deep, "");

  // Very deep hostile input is rejected without recursing into it.
  CHECK_DECODE_ERROR(from_msgpack(nested(100000, "\xc0")), error_kind::too_deep, "");
}

TEST_CASE("every proper prefix of a valid frame is truncated", "[msgpack][fuzz]") {
  const std::string bytes = to_msgpack(sample_value());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix length " << n);
    CHECK_DECODE_ERROR(from_msgpack(std::string_view(bytes).substr(0, n)), error_kind::truncated,
                       "");
  }
}

namespace {

// Decoding arbitrary bytes may succeed or throw decode_error, nothing else. When it
// succeeds the result is in normal form: it re-encodes and decodes to itself.
void decode_anything(std::string_view bytes) {
  try {
    const Value v = from_msgpack(bytes);
    const std::string again = to_msgpack(v);
    if (!(from_msgpack(again) == v)) FAIL_CHECK("decoded value does not round trip");
  } catch (const decode_error&) {
  }
}

}  // namespace

TEST_CASE("random bytes never crash the decoder", "[msgpack][fuzz]") {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 64);
  // Bytes biased toward headers (containers, lengths, floats, the invalid 0xc1) reach far
  // more decoder paths than uniform noise does.
  const unsigned char headers[] = {0x80, 0x81, 0x83, 0x8f, 0x90, 0x91, 0x93, 0x9f, 0xa0,
                                   0xa1, 0xa3, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7,
                                   0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xdc,
                                   0xdd, 0xde, 0xdf, 0x00, 0x01, 0x7f, 0xff, 0xe0};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof headers - 1);
  for (int c = 0; c < 3000; ++c) {
    std::string bytes(length(rng), '\0');
    const bool biased = c % 2 == 1;
    for (auto& b : bytes) b = static_cast<char>(biased ? headers[pick(rng)] : byte(rng));
    decode_anything(bytes);
  }
  SUCCEED("3000 random frames decoded or rejected");
}

TEST_CASE("mutated valid frames never crash the decoder", "[msgpack][fuzz]") {
  const std::string valid = to_msgpack(sample_value());
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> pos(0, valid.size() - 1);
  std::uniform_int_distribution<int> edits(1, 4);
  for (int c = 0; c < 3000; ++c) {
    std::string bytes = valid;
    for (int e = edits(rng); e > 0; --e) {
      switch (byte(rng) % 3) {
        case 0:
          bytes[pos(rng) % bytes.size()] = static_cast<char>(byte(rng));
          break;
        case 1:
          bytes.insert(pos(rng) % bytes.size(), 1, static_cast<char>(byte(rng)));
          break;
        default:
          if (bytes.size() > 1) bytes.erase(pos(rng) % bytes.size(), 1);
      }
    }
    decode_anything(bytes);
  }
  SUCCEED("3000 mutated frames decoded or rejected");
}

// Encoders reserve msgpack_size() up front; a wrong size would only cost an allocation, so
// this is where a wrong size shows: at every boundary of every int, string and container form.
TEST_CASE("msgpack_size is the exact encoded size at every form's boundary", "[msgpack]") {
  CHECK(msgpack_size(sample_value()) == to_msgpack(sample_value()).size());
  for (std::int64_t x :
       std::initializer_list<std::int64_t>{0LL,
                                           127LL,
                                           128LL,
                                           255LL,
                                           256LL,
                                           65535LL,
                                           65536LL,
                                           4294967295LL,
                                           4294967296LL,
                                           -1LL,
                                           -32LL,
                                           -33LL,
                                           -128LL,
                                           -129LL,
                                           -32768LL,
                                           -32769LL,
                                           -2147483648LL,
                                           -2147483649LL,
                                           std::numeric_limits<std::int64_t>::min(),
                                           std::numeric_limits<std::int64_t>::max()}) {
    INFO(x);
    CHECK(msgpack_size(Value(x)) == to_msgpack(Value(x)).size());
  }
  for (std::size_t n :
       std::initializer_list<std::size_t>{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536}) {
    INFO(n);
    const Value s(std::string(n, 'a'));
    CHECK(msgpack_size(s) == to_msgpack(s).size());
    const Value xs(f64_vector(n, 1.5));
    CHECK(msgpack_size(xs) == to_msgpack(xs).size());
    const Value list(value_list(n, Value(1)));
    CHECK(msgpack_size(list) == to_msgpack(list).size());
    value_map m;
    for (std::size_t i = 0; i < n; ++i) m.emplace(std::to_string(i), Value{});
    CHECK(msgpack_size(Value(m)) == to_msgpack(Value(m)).size());
  }
}
