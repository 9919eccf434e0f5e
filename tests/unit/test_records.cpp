// Event / Watermark / Output codecs: round trips, canonical bytes equal to the equivalent
// Value map, field validation, and robustness against cut-off frames.

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "messages/field_reader.hpp"
#include "messages/journal_record.hpp"
#include "messages/records.hpp"
#include "tests/unit/decode_error_check.hpp"
#include "tests/unit/decode_outcome.hpp"
#include "tests/unit/frame_mutation.hpp"

using namespace shoal;
using namespace std::string_literals;

namespace {

Value scan_payload() {
  return Value(value_map{{"scan_number", 7},
                         {"assets", value_list{"BTC", "ETH", "SOL"}},
                         {"prices", f64_vector{65000.5, 3400.25, 150.0}}});
}

Event sample_event() { return Event{"scan", 12, 1717200000123456789, make_value(scan_payload())}; }

Output sample_output() {
  return Output{"eigen_scanner", "9f86d081884c7d65", 1717200000000000000, 3,
                make_value(Value(value_map{{"regime", "BULL"}, {"share", 0.42}}))};
}

// The frame with one key replaced (or removed when v is absent), for malformed-input tests.
std::string with_field(const Value& record, const std::string& key, const Value* v) {
  value_map m = record.as_map();
  if (v) {
    m[key] = *v;
  } else {
    m.erase(key);
  }
  return to_msgpack(Value(m));
}

Value event_as_value(const Event& e) {
  return Value(value_map{{"stream", e.stream},
                         {"seq", e.seq},
                         {"ts", e.ts},
                         {"payload", e.payload ? *e.payload : Value{}}});
}

}  // namespace

TEST_CASE("Event round trips", "[records]") {
  const Event e = sample_event();
  const std::string bytes = encode_event(e);
  const Event back = decode_event(bytes);
  CHECK(back.stream == e.stream);
  CHECK(back.seq == e.seq);
  CHECK(back.ts == e.ts);
  REQUIRE(back.payload);
  CHECK(*back.payload == *e.payload);
  CHECK(encode_event(back) == bytes);
}

TEST_CASE("Watermark round trips", "[records]") {
  const Watermark w{"ob", -5};
  const std::string bytes = encode_watermark(w);
  const Watermark back = decode_watermark(bytes);
  CHECK(back.stream == "ob");
  CHECK(back.ts == -5);
  CHECK(encode_watermark(back) == bytes);
}

TEST_CASE("Output round trips, nil values included", "[records]") {
  const Output o = sample_output();
  const std::string bytes = encode_output(o);
  const Output back = decode_output(bytes);
  CHECK(back.node == o.node);
  CHECK(back.id == o.id);
  CHECK(back.bucket == o.bucket);
  CHECK(back.seq == o.seq);
  REQUIRE(back.value);
  CHECK(*back.value == *o.value);
  CHECK(encode_output(back) == bytes);

  Output nil_value = o;
  nil_value.value = nullptr;  // a null pointer encodes as nil ...
  const Output decoded = decode_output(encode_output(nil_value));
  REQUIRE(decoded.value);  // ... and decodes to a non-null pointer to nil
  CHECK(decoded.value->is_nil());
  nil_value.value = make_value(Value{});
  CHECK(encode_output(nil_value) == encode_output(decoded));
}

TEST_CASE("record bytes equal to_msgpack of the equivalent Value map", "[records]") {
  const Output o = sample_output();
  const Value as_map(value_map{
      {"node", o.node}, {"id", o.id}, {"bucket", o.bucket}, {"seq", o.seq}, {"value", *o.value}});
  CHECK(encode_output(o) == to_msgpack(as_map));

  const Event e = sample_event();
  CHECK(encode_event(e) == to_msgpack(event_as_value(e)));
  Event no_payload = e;
  no_payload.payload = nullptr;
  CHECK(encode_event(no_payload) == to_msgpack(event_as_value(no_payload)));

  const Watermark w{"scan", 1717200000000000000};
  CHECK(encode_watermark(w) == to_msgpack(Value(value_map{{"stream", w.stream}, {"ts", w.ts}})));

  // Large and small seqs, buckets and timestamps take the same int forms as Value.
  for (std::uint64_t seq :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{200}, std::uint64_t{70000},
        std::uint64_t{1} << 40, std::uint64_t{std::numeric_limits<std::int64_t>::max()}}) {
    Output x = o;
    x.seq = seq;
    x.bucket = -static_cast<std::int64_t>(seq / 2) - 1;
    const Value m(value_map{
        {"node", x.node}, {"id", x.id}, {"bucket", x.bucket}, {"seq", x.seq}, {"value", *x.value}});
    CHECK(encode_output(x) == to_msgpack(m));
    CHECK(decode_output(encode_output(x)).seq == seq);
  }
}

TEST_CASE("output_encoder writes the bytes encode_output writes", "[records]") {
  const value_ptr values[] = {sample_output().value, make_value(Value{}),
                              make_value(Value(f64_vector{1.5, -2.0}))};
  // Names and ids of every str length class: fixstr, str8, str16.
  const std::string names[] = {"ema", "", std::string(31, 'n'), std::string(40, 'x'),
                               std::string(300, 'y')};
  const std::string ids[] = {"9f86d081884c7d65", std::string(64, 'a')};
  for (const auto& name : names) {
    for (const auto& id : ids) {
      const output_encoder enc(name, id);
      for (std::int64_t bucket : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1} << 60}) {
        for (std::uint64_t seq : {std::uint64_t{1}, std::uint64_t{128}, std::uint64_t{1} << 33}) {
          for (const auto& v : values) {
            CHECK(enc.encode(bucket, seq, v) == encode_output(name, id, bucket, seq, v));
            std::string after = "earlier outputs";
            enc.append(after, bucket, seq, v);
            CHECK(after == "earlier outputs" + encode_output(name, id, bucket, seq, v));
          }
        }
      }
    }
  }
  CHECK_THROWS_AS(output_encoder("n", "i").encode(0, std::uint64_t{1} << 63, values[0]),
                  std::out_of_range);
}

TEST_CASE("seq beyond int64 cannot be encoded", "[records]") {
  Output o = sample_output();
  o.seq = std::uint64_t{1} << 63;
  CHECK_THROWS_AS(encode_output(o), std::out_of_range);
}

TEST_CASE("Event field validation names the field", "[records][errors]") {
  const Value ev = event_as_value(sample_event());
  const Value nil;
  const Value text("x");
  const Value minus_one(-1);
  const Value half(0.5);
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "stream", nullptr)), error_kind::missing_field,
                     "stream");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "seq", nullptr)), error_kind::missing_field,
                     "seq");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "ts", nullptr)), error_kind::missing_field, "ts");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "payload", nullptr)), error_kind::missing_field,
                     "payload");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "payload", &nil)), error_kind::wrong_type,
                     "payload");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "stream", &minus_one)), error_kind::wrong_type,
                     "stream");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "seq", &text)), error_kind::wrong_type, "seq");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "seq", &half)), error_kind::wrong_type, "seq");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "seq", &minus_one)), error_kind::negative, "seq");
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "ts", &half)), error_kind::wrong_type, "ts");
  CHECK_DECODE_ERROR(decode_event(to_msgpack(Value(value_list{1, 2}))), error_kind::wrong_type, "");
  // Errors inside the payload carry the full path.
  const Value bad_payload(
      value_map{{"prices", f64_vector{1.0, std::numeric_limits<double>::quiet_NaN()}}});
  CHECK_DECODE_ERROR(decode_event(with_field(ev, "payload", &bad_payload)), error_kind::non_finite,
                     "payload.prices[1]");
}

TEST_CASE("Output and Watermark field validation", "[records][errors]") {
  const Output o = sample_output();
  const Value out(value_map{
      {"node", o.node}, {"id", o.id}, {"bucket", o.bucket}, {"seq", o.seq}, {"value", *o.value}});
  const Value text("x");
  const Value minus_one(-1);
  CHECK_DECODE_ERROR(decode_output(with_field(out, "value", nullptr)), error_kind::missing_field,
                     "value");
  CHECK_DECODE_ERROR(decode_output(with_field(out, "id", nullptr)), error_kind::missing_field,
                     "id");
  CHECK_DECODE_ERROR(decode_output(with_field(out, "node", &minus_one)), error_kind::wrong_type,
                     "node");
  CHECK_DECODE_ERROR(decode_output(with_field(out, "bucket", &text)), error_kind::wrong_type,
                     "bucket");
  CHECK_DECODE_ERROR(decode_output(with_field(out, "seq", &minus_one)), error_kind::negative,
                     "seq");

  const Value wm(value_map{{"stream", "scan"}, {"ts", 1}});
  CHECK_DECODE_ERROR(decode_watermark(with_field(wm, "ts", nullptr)), error_kind::missing_field,
                     "ts");
  CHECK_DECODE_ERROR(decode_watermark(with_field(wm, "stream", &minus_one)), error_kind::wrong_type,
                     "stream");
}

TEST_CASE("unknown keys are ignored", "[records]") {
  const Value extra(std::int64_t{99});
  const Event e = decode_event(with_field(event_as_value(sample_event()), "zz_new", &extra));
  CHECK(e.seq == 12);
}

TEST_CASE("records enforce frame limits", "[records][errors]") {
  const std::string bytes = encode_event(sample_event());
  decode_limits small;
  small.max_bytes = bytes.size() - 1;
  CHECK_DECODE_ERROR(decode_event(bytes, small), error_kind::oversized, "");
  CHECK_DECODE_ERROR(decode_event(bytes + "\xc0"s), error_kind::trailing_bytes, "");
}

TEST_CASE("every proper prefix of a record is truncated", "[records][fuzz]") {
  const std::string frames[] = {encode_event(sample_event()), encode_output(sample_output()),
                                encode_watermark(Watermark{"scan", 1717200000000000000})};
  for (const auto& bytes : frames) {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      INFO("prefix length " << n << " of " << bytes.size());
      const std::string_view prefix = std::string_view(bytes).substr(0, n);
      CHECK_DECODE_ERROR(decode_event(prefix), error_kind::truncated, "");
      CHECK_DECODE_ERROR(decode_output(prefix), error_kind::truncated, "");
      CHECK_DECODE_ERROR(decode_watermark(prefix), error_kind::truncated, "");
    }
  }
}

TEST_CASE("a control record is told from its first key, and no other record is", "[records]") {
  Control c;
  c.kind = "submit";
  c.args = value_map{{"text", Value("[[node]]")}};
  CHECK(is_control_record(encode_control(c)));
  Event e{"s", 1, 2, make_value(Value(value_map{{"args", Value(1)}}))};
  CHECK_FALSE(is_control_record(encode_event(e)));
  CHECK_FALSE(is_control_record(encode_watermark(Watermark{"s", 5, true})));
  CHECK_FALSE(is_control_record(encode_rejected(Rejected{"s", 1, "raw", "bad", 0, ""})));
  CHECK_FALSE(is_control_record(""));
}

namespace {

// decode_event as it was before it read an event's fields without their map: the reference the
// faster path must agree with, value for value and error for error.
Event event_through_map(std::string_view bytes, const decode_limits& limits) {
  Value v = from_msgpack(bytes, limits);
  if (!v.is_map()) throw decode_error(error_kind::wrong_type, "", "record must be a map");
  value_map& m = v.as_map();
  auto field = [&](const char* key) -> Value& {
    auto it = m.find(key);
    if (it == m.end()) throw decode_error(error_kind::missing_field, key, "missing");
    return it->second;
  };
  Event e;
  e.stream = require_string(field("stream"), "stream");
  e.seq = static_cast<std::uint64_t>(require_non_negative_int(field("seq"), "seq"));
  e.ts = require_int(field("ts"), "ts");
  Value& payload = field("payload");
  e.payload = make_value(std::move(payload));
  if (e.payload->is_nil()) throw decode_error(error_kind::wrong_type, "payload", "nil");
  return e;
}

// Both agree on bytes; 1 when the frame decoded.
int events_agree(const std::string& bytes) {
  decode_limits limits;
  limits.allow_non_finite = true;  // as the journal reads its records
  const auto want = testing::outcome_of([&] { return event_through_map(bytes, limits); });
  const auto got = testing::outcome_of([&] { return decode_event(bytes, limits); });
  INFO("frame of " << bytes.size() << " bytes");
  return testing::agrees(got, want, [](const Event& g, const Event& w) {
    CHECK(g.stream == w.stream);
    CHECK(g.seq == w.seq);
    CHECK(g.ts == w.ts);
    CHECK(to_msgpack(*g.payload) == to_msgpack(*w.payload));
  });
}

}  // namespace

TEST_CASE("an event read without its map equals the map's reading on odd and mutated frames",
          "[records][fuzz]") {
  const Value base = Value(value_map{{"payload", scan_payload()},
                                     {"seq", std::int64_t{12}},
                                     {"stream", "scan"},
                                     {"ts", std::int64_t{1717200000123456789}}});
  int decoded = 0;
  // The shapes the fast path must hand back to the map: other int forms, signs, an extra key,
  // a missing one, trailing bytes, a nil payload, a payload that is itself odd.
  const std::string canonical = encode_event(sample_event());
  decoded += events_agree(canonical);
  decoded += events_agree(to_msgpack(base));
  decoded += events_agree(
      "\x84\xa7payload\x01\xa3seq\xd0\x05\xa6stream\xa1s\xa2ts\xd3\xff\xff\xff\xff\xff\xff\xff\xfe"s);
  decoded += events_agree("\x84\xa7payload\x01\xa3seq\xd0\xfb\xa6stream\xa1s\xa2ts\x00"s);
  decoded += events_agree(
      "\x84\xa7payload\x01\xa3seq\x07\xa6stream\xa1s\xa2ts\xcf\x80"
      "\x00\x00\x00\x00\x00\x00\x00"s);
  decoded += events_agree("\x84\xa7payload\xc0\xa3seq\x07\xa6stream\xa1s\xa2ts\x00"s);
  decoded += events_agree("\x84\xa7payload\x01\xa3seq\x07\xa6stream\xa1s\xa2ts\x00\x00"s);
  decoded += events_agree("\x84\xa7payload\x01\xa3seq\x07\xa6stream\x05\xa2ts\x00"s);
  decoded += events_agree("\x84\xa7payload\x01\xa3seq\x07\xa6strean\xa1s\xa2ts\x00"s);
  decoded += events_agree("\x85\xa7payload\x01\xa3seq\x07\xa6stream\xa1s\xa2ts\x00\xa1z\x01"s);
  decoded += events_agree(
      "\x84\xa7payload\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"
      "\xa3seq\x07\xa6stream\xa1s\xa2ts\x00"s);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int c = 0; c < 3000; ++c) {
    decoded += events_agree(testing::mutated(canonical, 1 + byte(rng) % 2, rng,
                                             [&] { return static_cast<char>(byte(rng)); }));
  }
  for (std::size_t n = 0; n <= canonical.size(); ++n)
    decoded += events_agree(canonical.substr(0, n));
  CHECK(decoded > 300);  // the comparison covered frames that decode, not only errors
}
