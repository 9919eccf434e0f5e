// Event time of a live source's streams on a manual clock: idle streams follow the source's
// progress (joins below them never stall), a rejected record never moves a stream's mode or
// progress, and event time cannot jump beyond max_future.
#include <catch2/catch.hpp>

#include "messages/decode_error.hpp"
#include "runtime/clock/manual_clock.hpp"
#include "runtime/sources/source_progress.hpp"

using namespace shoal;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t s = 1'000'000'000;  // one second, the bucket width below
constexpr std::int64_t t0 = 1'767'225'600 * s;

Value with_ts(std::int64_t ts) { return Value(value_map{{"ts", Value(ts)}, {"x", Value(1.0)}}); }
Value without_ts() { return Value(value_map{{"x", Value(1.0)}}); }

source_progress two_payload_streams(manual_clock& clk, std::int64_t lateness = 0) {
  source_progress::options o;
  o.interval_ns = s;
  o.idle_timeout = 2s;
  o.allowed_lateness_ns = lateness;
  o.max_future_ns = 60 * s;
  return source_progress({{"feed.a", stream_time::payload}, {"feed.b", stream_time::payload}}, o,
                         clk.now());
}

void feed(source_progress& p, manual_clock& clk, std::size_t i, std::int64_t ts) {
  p.accept(i, p.event_time(i, with_ts(ts), clk.wall_ns()), clk.now());
}

}  // namespace

TEST_CASE("a quiet stream's watermark follows the source's progress once it is idle",
          "[source_progress]") {
  manual_clock clk;
  auto p = two_payload_streams(clk);
  for (int k = 0; k <= 9; ++k) {
    feed(p, clk, 0, t0 + k * s + 1);
    feed(p, clk, 1, t0 + k * s + 2);
  }
  // feed.b goes quiet at bucket 9; feed.a runs on to bucket 29, a bucket every 100 ms.
  for (int k = 10; k <= 29; ++k) {
    clk.advance(100ms);
    feed(p, clk, 0, t0 + k * s + 1);
    if (k < 29) CHECK(p.due(clk.now(), clk.wall_ns()).empty());  // b quiet for < 2 s
  }
  clk.advance(100ms);  // 2 s since b's last event
  auto due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].stream == 1);
  CHECK(due[0].ts == t0 + 29 * s - 1);  // closed through bucket 28: a's latest bucket is open
  CHECK(p.idle(1));
  CHECK(p.due(clk.now(), clk.wall_ns()).empty());  // nothing new: no second watermark

  // a moves on a bucket: b follows, one watermark per bucket.
  feed(p, clk, 0, t0 + 30 * s);
  due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].ts == t0 + 30 * s - 1);

  // b's next event makes it active again: no more watermarks for it while it is.
  feed(p, clk, 1, t0 + 31 * s);
  feed(p, clk, 0, t0 + 32 * s);
  CHECK(!p.idle(1));
  CHECK(p.due(clk.now(), clk.wall_ns()).empty());
}

TEST_CASE("allowed_lateness keeps an idle stream's watermark behind the source's progress",
          "[source_progress]") {
  manual_clock clk;
  auto p = two_payload_streams(clk, 5 * s);
  feed(p, clk, 1, t0);
  clk.advance(3s);
  feed(p, clk, 0, t0 + 20 * s);
  auto due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].ts == t0 + 20 * s - 1 - 5 * s);
}

TEST_CASE("a stream idle with no active stream beside it closes only its own last bucket",
          "[source_progress]") {
  manual_clock clk;
  auto p = two_payload_streams(clk);
  feed(p, clk, 0, t0 + 3 * s + 5);
  clk.advance(2s);
  auto due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);  // b never had an event and a is idle too: nothing to follow
  CHECK(due[0].stream == 0);
  CHECK(due[0].ts == t0 + 4 * s - 1);
}

TEST_CASE("an ingest-time stream's idle watermark follows the wall clock, bucket by bucket",
          "[source_progress]") {
  manual_clock clk;
  source_progress::options o;
  o.interval_ns = s;
  o.idle_timeout = 2s;
  source_progress p({{"feed.x", stream_time::ingest}}, o, clk.now());
  const auto t = p.event_time(0, with_ts(5), clk.wall_ns());  // its ts field is not event time
  CHECK(t.stamped);
  CHECK(t.ts == clk.wall_ns());
  p.accept(0, t, clk.now());
  const std::int64_t start = clk.wall_ns();  // a whole second
  clk.advance(2500ms);
  auto due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].ts == start + 2 * s - 1);
  clk.advance(300ms);  // still in the same bucket of wall time: nothing new
  CHECK(p.due(clk.now(), clk.wall_ns()).empty());
  clk.advance(300ms);
  due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].ts == start + 3 * s - 1);
}

TEST_CASE("an auto stream's mode is fixed by its first accepted event, never by a rejected one",
          "[source_progress]") {
  manual_clock clk;
  source_progress::options o;
  o.interval_ns = s;
  source_progress p({{"feed.auto", stream_time::automatic}}, o, clk.now());
  // A frame without ts arrives but is rejected later (bad schema): nothing changes.
  const auto stamped = p.event_time(0, without_ts(), clk.wall_ns());
  CHECK(stamped.stamped);
  CHECK(p.mode(0) == stream_time::automatic);
  CHECK(p.last_ts(0) == INT64_MIN);
  // The first accepted event carries a ts: payload time for good.
  CHECK(p.accept(0, p.event_time(0, with_ts(t0), clk.wall_ns()), clk.now()));
  CHECK(p.mode(0) == stream_time::payload);
  CHECK_THROWS_AS(p.event_time(0, without_ts(), clk.wall_ns()), decode_error);
  CHECK_FALSE(p.accept(0, p.event_time(0, with_ts(t0 + s), clk.wall_ns()), clk.now()));
  // An idle payload stream never takes a watermark from the wall clock.
  clk.advance(std::chrono::hours(24));
  auto due = p.due(clk.now(), clk.wall_ns());
  REQUIRE(due.size() == 1);
  CHECK(due[0].ts == t0 + 2 * s - 1);
}

TEST_CASE("event time may not jump beyond max_future of the stream's progress and the wall clock",
          "[source_progress]") {
  manual_clock clk(clock::time_point(std::chrono::hours(1)), t0);
  auto p = two_payload_streams(clk);
  // The year 2116 on a first event, and a minute and a bit past the wall clock: rejected.
  CHECK_THROWS_AS(p.event_time(0, with_ts((std::int64_t{1} << 62) - 1), clk.wall_ns()),
                  decode_error);
  CHECK_THROWS_AS(p.event_time(0, with_ts(t0 + 61 * s), clk.wall_ns()), decode_error);
  CHECK_NOTHROW(p.event_time(0, with_ts(t0 + 59 * s), clk.wall_ns()));
  // History far behind the wall clock is fine, and so is a gap within the bound of progress...
  feed(p, clk, 0, t0 - 86'400 * s);
  CHECK_NOTHROW(p.event_time(0, with_ts(t0 - 86'400 * s + 50 * s), clk.wall_ns()));
  // ...and a jump to the wall clock (a feed back after a weekend).
  CHECK_NOTHROW(p.event_time(0, with_ts(t0 + 10 * s), clk.wall_ns()));
  try {
    p.event_time(0, with_ts(t0 + 3600 * s), clk.wall_ns());
    FAIL("no error");
  } catch (const decode_error& e) {
    CHECK(e.field() == "ts");
    CHECK(std::string(e.what()).find("max_future") != std::string::npos);
  }
}

TEST_CASE("a fractional ts is rejected, an integral float is read as ns", "[source_progress]") {
  manual_clock clk;
  auto p = two_payload_streams(clk);
  CHECK_THROWS_AS(p.event_time(0, Value(value_map{{"ts", Value(1.5)}}), clk.wall_ns()),
                  decode_error);
  CHECK(p.event_time(0, Value(value_map{{"ts", Value(1.0e18)}}), clk.wall_ns()).ts ==
        1'000'000'000'000'000'000);
}
