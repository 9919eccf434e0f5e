// The snapshot endpoint's request frame {topic, n}: decoded apart from the ZeroMQ loop, every
// bad request a typed error naming the field (tests/fuzz/snapshot_request.cpp fuzzes it).
#include <catch2/catch.hpp>

#include "../unit/decode_error_check.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/transport/snapshot_request.hpp"

using namespace shoal;

namespace {

std::string request(value_map m) { return to_msgpack(Value(std::move(m))); }

}  // namespace

TEST_CASE("a snapshot request survives encode and decode", "[snapshot]") {
  const snapshot_request r = decode_snapshot_request(encode_snapshot_request({"strategy.z", 25}));
  CHECK(r.topic == "strategy.z");
  CHECK(r.n == 25);
  CHECK(decode_snapshot_request(encode_snapshot_request({"z", 0})).n == 0);
  CHECK(decode_snapshot_request(encode_snapshot_request({"z", 100'000})).n == 100'000);
}

TEST_CASE("a snapshot request ignores keys it does not know", "[snapshot]") {
  const auto r = decode_snapshot_request(
      request({{"n", Value(3)}, {"since", Value(9)}, {"topic", Value("z")}}));
  CHECK(r.topic == "z");
  CHECK(r.n == 3);
}

TEST_CASE("a bad snapshot request is a decode_error naming the field", "[snapshot]") {
  CHECK_DECODE_ERROR(decode_snapshot_request(""), error_kind::truncated, "");
  CHECK_DECODE_ERROR(decode_snapshot_request("\xc1"), error_kind::not_msgpack, "");
  CHECK_DECODE_ERROR(decode_snapshot_request(to_msgpack(Value(value_list{Value("z"), Value(1)}))),
                     error_kind::wrong_type, "");
  CHECK_DECODE_ERROR(decode_snapshot_request(request({{"n", Value(1)}})), error_kind::missing_field,
                     "topic");
  CHECK_DECODE_ERROR(decode_snapshot_request(request({{"n", Value(1)}, {"topic", Value(5)}})),
                     error_kind::wrong_type, "topic");
  CHECK_DECODE_ERROR(decode_snapshot_request(request({{"topic", Value("z")}})),
                     error_kind::missing_field, "n");
  CHECK_DECODE_ERROR(decode_snapshot_request(request({{"n", Value(2.0)}, {"topic", Value("z")}})),
                     error_kind::wrong_type, "n");
  CHECK_DECODE_ERROR(decode_snapshot_request(request({{"n", Value(-1)}, {"topic", Value("z")}})),
                     error_kind::negative, "n");
  CHECK_DECODE_ERROR(
      decode_snapshot_request(request({{"n", Value(100'001)}, {"topic", Value("z")}})),
      error_kind::out_of_range, "n");
}
