// Domain payload validation (design §3) and the asset-keyed vector helpers.

#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>
#include <string>

#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/decode_error_check.hpp"

using namespace shoal;

namespace {

const double nan_ = std::numeric_limits<double>::quiet_NaN();
const double inf_ = std::numeric_limits<double>::infinity();

Value scan() {
  return Value(value_map{{"scan_number", 1},
                         {"assets", value_list{"BTC", "ETH", "SOL"}},
                         {"prices", f64_vector{65000.0, 3400.0, 150.0}}});
}

Value ob() {
  return Value(value_map{{"asset", "BTC"},
                         {"bid_px", f64_vector{100.0, 99.5}},
                         {"bid_qty", f64_vector{1.0, 0.0}},
                         {"ask_px", f64_vector{100.5}},
                         {"ask_qty", f64_vector{2.0}}});
}

// payload with one key set (or removed when v is absent).
Value with(Value payload, const std::string& key, const Value* v) {
  if (v) {
    payload.as_map()[key] = *v;
  } else {
    payload.as_map().erase(key);
  }
  return payload;
}
Value with(Value payload, const std::string& key, Value v) {
  return with(std::move(payload), key, &v);
}

}  // namespace

TEST_CASE("valid payloads pass", "[payloads]") {
  CHECK_NOTHROW(validate_scan(scan()));
  CHECK_NOTHROW(validate_ob(ob()));
  CHECK_NOTHROW(validate_posture(Value(value_map{{"posture", "TURTLE"}})));
  CHECK_NOTHROW(validate_esof(Value(value_map{{"score", -1.0}, {"label", "UNFAVORABLE"}})));
  CHECK_NOTHROW(validate_acb(Value(value_map{{"boost", 1.5}, {"beta", 0.85}, {"stress", 1}})));
  CHECK_NOTHROW(validate_mc(Value(value_map{{"status", "ORANGE"}, {"scale", 0.5}})));
  // Through the wire, too (a scan's prices come back as an f64_vector).
  CHECK_NOTHROW(validate_scan(from_msgpack(to_msgpack(scan()))));
  CHECK_NOTHROW(validate_ob(from_msgpack(to_msgpack(ob()))));
}

TEST_CASE("scan validation", "[payloads][errors]") {
  CHECK_DECODE_ERROR(validate_scan(Value(value_list{})), error_kind::wrong_type, "payload");
  CHECK_DECODE_ERROR(validate_scan(Value{}), error_kind::wrong_type, "payload");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "scan_number", nullptr)), error_kind::missing_field,
                     "scan_number");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "scan_number", 1.0)), error_kind::wrong_type,
                     "scan_number");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "assets", nullptr)), error_kind::missing_field,
                     "assets");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "assets", "BTC")), error_kind::wrong_type,
                     "assets");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "assets", value_list{"BTC", 2, "SOL"})),
                     error_kind::wrong_type, "assets[1]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "assets", value_list{"BTC", "ETH", "BTC"})),
                     error_kind::duplicate_key, "assets[2]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", nullptr)), error_kind::missing_field,
                     "prices");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", "1,2,3")), error_kind::wrong_type,
                     "prices");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", value_list{1, "2", 3})),
                     error_kind::wrong_type, "prices[1]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", f64_vector{1, nan_, 3})),
                     error_kind::non_finite, "prices[1]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", value_list{1, 2, inf_})),
                     error_kind::non_finite, "prices[2]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", f64_vector{1, -2, 3})),
                     error_kind::negative, "prices[1]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", value_list{0, 2, 3})),
                     error_kind::negative, "prices[0]");
  CHECK_DECODE_ERROR(validate_scan(with(scan(), "prices", f64_vector{1, 2})),
                     error_kind::length_mismatch, "prices");
  // Ints are numbers; empty scans are consistent.
  CHECK_NOTHROW(validate_scan(with(scan(), "prices", value_list{1, 2.5, 3})));
  CHECK_NOTHROW(validate_scan(with(with(scan(), "assets", value_list{}), "prices", value_list{})));
  try {
    validate_scan(with(scan(), "prices", f64_vector{1, 0, 3}));
    FAIL("expected decode_error");
  } catch (const decode_error& e) {
    CHECK(std::string(e.what()) == "prices[1]: must be > 0");
  }
}

TEST_CASE("the brief's example: prices [1, NaN]", "[payloads][errors]") {
  const Value p(value_map{
      {"scan_number", 1}, {"assets", value_list{"A", "B"}}, {"prices", value_list{1, nan_}}});
  CHECK_DECODE_ERROR(validate_scan(p), error_kind::non_finite, "prices[1]");
}

TEST_CASE("ob validation", "[payloads][errors]") {
  CHECK_DECODE_ERROR(validate_ob(Value("x")), error_kind::wrong_type, "payload");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "asset", nullptr)), error_kind::missing_field, "asset");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "asset", 3)), error_kind::wrong_type, "asset");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "ask_qty", nullptr)), error_kind::missing_field,
                     "ask_qty");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "bid_qty", f64_vector{-1.0, 1.0})),
                     error_kind::negative, "bid_qty[0]");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "bid_px", f64_vector{100.0, 0.0})),
                     error_kind::negative, "bid_px[1]");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "ask_px", f64_vector{inf_})), error_kind::non_finite,
                     "ask_px[0]");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "ask_qty", f64_vector{nan_})), error_kind::non_finite,
                     "ask_qty[0]");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "bid_qty", f64_vector{1.0})),
                     error_kind::length_mismatch, "bid_qty");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "ask_qty", value_list{1, 2})),
                     error_kind::length_mismatch, "ask_qty");
  CHECK_DECODE_ERROR(validate_ob(with(ob(), "ask_px", value_list{"100"})), error_kind::wrong_type,
                     "ask_px[0]");
  // Empty books (one side or both) are allowed.
  Value empty = with(with(ob(), "bid_px", value_list{}), "bid_qty", value_list{});
  CHECK_NOTHROW(validate_ob(empty));
  empty = with(with(empty, "ask_px", value_list{}), "ask_qty", value_list{});
  CHECK_NOTHROW(validate_ob(empty));
}

TEST_CASE("posture, esof, acb and mc validation", "[payloads][errors]") {
  CHECK_DECODE_ERROR(validate_posture(Value(value_map{})), error_kind::missing_field, "posture");
  CHECK_DECODE_ERROR(validate_posture(Value(value_map{{"posture", "apex"}})),
                     error_kind::out_of_range, "posture");
  CHECK_DECODE_ERROR(validate_posture(Value(value_map{{"posture", 0}})), error_kind::wrong_type,
                     "posture");
  for (const char* p : {"APEX", "STALKER", "TURTLE", "HIBERNATE"})
    CHECK_NOTHROW(validate_posture(Value(value_map{{"posture", p}})));

  const Value esof(value_map{{"score", 0.5}, {"label", "FAVORABLE"}});
  CHECK_NOTHROW(validate_esof(with(esof, "score", 1)));  // an int where a double goes
  CHECK_DECODE_ERROR(validate_esof(with(esof, "score", 1.0001)), error_kind::out_of_range, "score");
  CHECK_DECODE_ERROR(validate_esof(with(esof, "score", -2)), error_kind::out_of_range, "score");
  CHECK_DECODE_ERROR(validate_esof(with(esof, "score", nan_)), error_kind::non_finite, "score");
  CHECK_DECODE_ERROR(validate_esof(with(esof, "score", "0.5")), error_kind::wrong_type, "score");
  CHECK_DECODE_ERROR(validate_esof(with(esof, "label", nullptr)), error_kind::missing_field,
                     "label");

  const Value acb(value_map{{"boost", 1.5}, {"beta", 1}, {"stress", 0}});
  CHECK_NOTHROW(validate_acb(with(acb, "stress", 3)));
  CHECK_DECODE_ERROR(validate_acb(with(acb, "stress", 4)), error_kind::out_of_range, "stress");
  CHECK_DECODE_ERROR(validate_acb(with(acb, "stress", -1)), error_kind::out_of_range, "stress");
  CHECK_DECODE_ERROR(validate_acb(with(acb, "stress", 1.0)), error_kind::wrong_type, "stress");
  CHECK_DECODE_ERROR(validate_acb(with(acb, "boost", nan_)), error_kind::non_finite, "boost");
  CHECK_DECODE_ERROR(validate_acb(with(acb, "beta", nullptr)), error_kind::missing_field, "beta");

  const Value mc(value_map{{"status", "GREEN"}, {"scale", 1.0}});
  CHECK_NOTHROW(validate_mc(with(mc, "status", "RED")));
  CHECK_DECODE_ERROR(validate_mc(with(mc, "status", "BLUE")), error_kind::out_of_range, "status");
  CHECK_DECODE_ERROR(validate_mc(with(mc, "scale", -inf_)), error_kind::non_finite, "scale");
  CHECK_DECODE_ERROR(validate_mc(with(mc, "scale", value_list{})), error_kind::wrong_type, "scale");
}

TEST_CASE("validate_payload dispatches by schema name", "[payloads]") {
  CHECK_NOTHROW(validate_payload("scan", scan()));
  CHECK_DECODE_ERROR(validate_payload("scan", ob()), error_kind::missing_field, "scan_number");
  CHECK_NOTHROW(validate_payload("ob", ob()));
  CHECK_DECODE_ERROR(validate_payload("posture", scan()), error_kind::missing_field, "posture");
  CHECK_DECODE_ERROR(validate_payload("esof", scan()), error_kind::missing_field, "score");
  CHECK_DECODE_ERROR(validate_payload("acb", scan()), error_kind::missing_field, "boost");
  CHECK_DECODE_ERROR(validate_payload("mc", scan()), error_kind::missing_field, "status");
  CHECK_NOTHROW(validate_payload("any", Value{}));
  CHECK_NOTHROW(validate_payload("any", Value(value_list{1, 2})));
  CHECK_THROWS_AS(validate_payload("scans", scan()), std::invalid_argument);
  CHECK(is_known_schema("any"));
  CHECK(is_known_schema("mc"));
  CHECK_FALSE(is_known_schema(""));
  CHECK_FALSE(is_known_schema("SCAN"));
}

TEST_CASE("read_asset_values reads scans and vector outputs by name", "[payloads]") {
  std::map<std::string, double, std::less<>> out;
  REQUIRE(read_asset_values(scan(), out));
  CHECK(out == std::map<std::string, double, std::less<>>{
                   {"BTC", 65000.0}, {"ETH", 3400.0}, {"SOL", 150.0}});

  // Scans: unusable prices are skipped.
  REQUIRE(read_asset_values(with(scan(), "prices", value_list{nan_, 0, -1.0}), out));
  CHECK(out.empty());
  REQUIRE(read_asset_values(with(scan(), "prices", value_list{1, inf_, 2.5}), out));
  CHECK(out == std::map<std::string, double, std::less<>>{{"BTC", 1.0}, {"SOL", 2.5}});

  // Vector outputs: negatives are values (z-scores, returns); non-finite is skipped.
  const Value vec(
      value_map{{"assets", value_list{"A", "B", "C"}}, {"values", f64_vector{-0.5, 0.0, nan_}}});
  REQUIRE(read_asset_values(vec, out));
  CHECK(out == std::map<std::string, double, std::less<>>{{"A", -0.5}, {"B", 0.0}});

  asset_series series;
  REQUIRE(read_asset_series(vec, series));
  CHECK(series.assets == std::vector<std::string>{"A", "B"});
  CHECK(series.values == std::vector<double>{-0.5, 0.0});

  // Neither shape.
  out = {{"stale", 1.0}};
  CHECK_FALSE(read_asset_values(Value{}, out));
  CHECK(out.empty());
  CHECK_FALSE(read_asset_values(Value(value_map{{"assets", value_list{"A"}}}), out));
  CHECK_FALSE(read_asset_values(with(scan(), "assets", value_list{"A", 1, "C"}), out));
  CHECK_FALSE(read_asset_values(with(scan(), "prices", f64_vector{1.0}), out));
  CHECK_FALSE(read_asset_values(with(scan(), "prices", value_list{1, "x", 2}), out));
  CHECK_FALSE(read_asset_values(Value(value_map{{"values", f64_vector{1.0}}}), out));
}

TEST_CASE("make_asset_values builds the vector output shape in name order", "[payloads]") {
  const std::map<std::string, double, std::less<>> in{{"SOL", 3.0}, {"BTC", 1.0}, {"ETH", -2.0}};
  const Value v = make_asset_values(in);
  CHECK(v == Value(value_map{{"assets", value_list{"BTC", "ETH", "SOL"}},
                             {"values", f64_vector{1.0, -2.0, 3.0}}}));
  std::map<std::string, double, std::less<>> back;
  REQUIRE(read_asset_values(v, back));
  CHECK(back == in);
  // Through the wire, including the empty case (empty arrays decode as lists).
  REQUIRE(read_asset_values(from_msgpack(to_msgpack(v)), back));
  CHECK(back == in);
  REQUIRE(read_asset_values(from_msgpack(to_msgpack(make_asset_values({}))), back));
  CHECK(back.empty());
}
