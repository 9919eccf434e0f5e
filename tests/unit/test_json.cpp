// Value / Output ↔ JSON for the admin socket and exports.

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "messages/json.hpp"
#include "tests/unit/decode_error_check.hpp"

using namespace shoal;
using nlohmann::json;

TEST_CASE("to_json maps every Value alternative", "[json]") {
  CHECK(to_json(Value{}).is_null());
  CHECK(to_json(Value(true)) == json(true));
  CHECK(to_json(Value(-3)).is_number_integer());
  CHECK(to_json(Value(2.5)) == json(2.5));
  CHECK(to_json(Value("s")) == json("s"));
  CHECK(to_json(Value(f64_vector{1.0, 2.0})) == json::parse("[1.0, 2.0]"));
  CHECK(to_json(Value(value_list{1, "a", Value{}})) == json::parse(R"([1, "a", null])"));
  const Value m(value_map{{"b", 1}, {"a", value_map{{"x", f64_vector{0.5}}}}});
  CHECK(to_json(m).dump() == R"({"a":{"x":[0.5]},"b":1})");
}

TEST_CASE("from_json follows the wire rules", "[json]") {
  const json j = json::parse(R"({"i": 3, "neg": -4, "f": 1.5, "fs": [1.0, 2.5], "mixed": [1, 2.5],
                                 "empty": [], "s": "x", "n": null, "b": false, "o": {"k": []}})");
  const Value v = from_json(j);
  CHECK(*v.find("i") == Value(3));
  CHECK(*v.find("neg") == Value(-4));
  CHECK(*v.find("f") == Value(1.5));
  CHECK(*v.find("fs") == Value(f64_vector{1.0, 2.5}));
  CHECK(v.find("mixed")->is_list());
  CHECK(*v.find("empty") == Value(value_list{}));
  CHECK(*v.find("s") == Value("x"));
  CHECK(v.find("n")->is_nil());
  CHECK(*v.find("b") == Value(false));
  CHECK(*v.find("o") == Value(value_map{{"k", value_list{}}}));
  CHECK(from_json(to_json(v)) == v);
}

TEST_CASE("from_json errors name the path", "[json][errors]") {
  CHECK_DECODE_ERROR(from_json(json::parse(R"({"a": [1, 18446744073709551615]})")),
                     error_kind::out_of_range, "a[1]");
  CHECK_DECODE_ERROR(from_json(json{{"x", std::numeric_limits<double>::quiet_NaN()}}),
                     error_kind::non_finite, "x");
  CHECK_DECODE_ERROR(from_json(json::binary({1, 2})), error_kind::wrong_type, "");
  json deep = json::array();
  for (int i = 0; i < 40; ++i) deep = json::array({deep});
  std::string at_33;  // the 33rd array sits at [0] × 32
  for (int i = 0; i < 32; ++i) at_33 += "[0]";
  CHECK_DECODE_ERROR(from_json(deep), error_kind::too_deep, at_33);
  decode_limits lax;
  lax.max_depth = 64;
  CHECK_NOTHROW(from_json(deep, lax));
}

TEST_CASE("Output as JSON", "[json]") {
  Output o{"acb", "ab12", 60000000000, 7, make_value(Value(value_map{{"stress", 1}}))};
  CHECK(to_json(o) ==
        json::parse(
            R"({"node":"acb","id":"ab12","bucket":60000000000,"seq":7,"value":{"stress":1}})"));
  o.value = nullptr;
  CHECK(to_json(o)["value"].is_null());
}
