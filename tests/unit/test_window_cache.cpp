// Unit tests for runtime/window/window_cache (design §5: event time and the window cache).
// Over 400 lines on purpose: one class, its every rule (firing, on_missing, lateness, keyed
// buckets, watermarks, memory) next to a property test against a reference model, so a change
// to the cache is reviewed against all of them in one file.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/window/window_cache.hpp"

using namespace shoal;

namespace {

constexpr std::int64_t k_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k_max = std::numeric_limits<std::int64_t>::max();

port_spec plain(std::string name) { return port_spec{std::move(name), false, std::nullopt}; }

value_ptr iv(std::int64_t x) { return make_value(Value(x)); }

value_ptr book(const std::string& asset, std::int64_t px) {
  value_map m;
  m.emplace("asset", Value(asset));
  m.emplace("px", Value(px));
  return make_value(Value(std::move(m)));
}

std::vector<std::int64_t> ring_ts(const slot_ring& r) {
  std::vector<std::int64_t> out;
  for (std::size_t p = 0; p < r.size(); ++p) out.push_back(r[p].t);
  return out;
}

std::vector<std::int64_t> ring_ints(const slot_ring& r) {
  std::vector<std::int64_t> out;
  for (std::size_t p = 0; p < r.size(); ++p) out.push_back(r[p].v->as_int());
  return out;
}

std::vector<ready_bucket> drain(window_cache& c) {
  std::vector<ready_bucket> out;
  while (auto r = c.next_ready()) out.push_back(*r);
  return out;
}

window_cache one_port(std::size_t period, on_missing policy = on_missing::skip,
                      bool one_per_bucket = false) {
  return window_cache({port_spec{"in", one_per_bucket, std::nullopt}}, 10, period, policy);
}

window_cache two_ports(std::size_t period, on_missing policy) {
  return window_cache({port_spec{"a", false, std::nullopt}, port_spec{"b", false, std::nullopt}},
                      10, period, policy);
}

}  // namespace

TEST_CASE("on_missing parses and prints", "[window]") {
  CHECK(parse_on_missing("skip") == on_missing::skip);
  CHECK(parse_on_missing("fail") == on_missing::fail);
  CHECK(parse_on_missing("ffill") == on_missing::ffill);
  CHECK_FALSE(parse_on_missing("Skip").has_value());
  CHECK_FALSE(parse_on_missing("").has_value());
  CHECK(std::string(to_string(on_missing::skip)) == "skip");
  CHECK(std::string(to_string(on_missing::fail)) == "fail");
  CHECK(std::string(to_string(on_missing::ffill)) == "ffill");
}

TEST_CASE("bucket_of floors, also for negative ts and at exact boundaries", "[window]") {
  CHECK(bucket_of(0, 10) == 0);
  CHECK(bucket_of(9, 10) == 0);
  CHECK(bucket_of(10, 10) == 10);
  CHECK(bucket_of(19, 10) == 10);
  CHECK(bucket_of(-1, 10) == -10);
  CHECK(bucket_of(-10, 10) == -10);
  CHECK(bucket_of(-11, 10) == -20);
  CHECK(bucket_of(1'700'000'000'123'456'789, 1'000'000'000) == 1'700'000'000'000'000'000);
  CHECK(bucket_of(k_max, 10) == k_max - 7);  // INT64_MAX = ...807
  CHECK(bucket_of(k_min, 1) == k_min);
  CHECK(bucket_of(k_min + 8, 10) == k_min + 8);  // INT64_MIN = -...808, divisible by 10 at +8
  CHECK_THROWS_AS(bucket_of(k_min, 10), std::out_of_range);
  CHECK_THROWS_AS(bucket_of(5, 0), std::invalid_argument);
  CHECK_THROWS_AS(bucket_of(5, -10), std::invalid_argument);

  // In the cache: ts 9 and 10 land in different buckets, ts -1 and -10 in the same one.
  auto c = one_port(1);
  CHECK(c.offer(0, 1, -10, iv(1)) == offer_status::accepted);
  CHECK(c.offer(0, 2, -1, iv(2)) == offer_status::accepted);
  CHECK(c.open_bucket(0) == -10);
  CHECK(c.offer(0, 3, 9, iv(3)) == offer_status::accepted);
  CHECK(c.offer(0, 4, 10, iv(4)) == offer_status::accepted);
  CHECK(c.open_bucket(0) == 10);
  auto r = drain(c);
  REQUIRE(r.size() == 2);
  CHECK(r[0].bucket == -10);
  CHECK(r[1].bucket == 0);
  CHECK(c.ring(0).back().v->as_int() == 3);
}

TEST_CASE("constructor rejects bad interval, period and duplicate port names", "[window]") {
  CHECK_THROWS_AS(window_cache({plain("in")}, 0, 1, on_missing::skip), std::invalid_argument);
  CHECK_THROWS_AS(window_cache({plain("in")}, -5, 1, on_missing::skip), std::invalid_argument);
  CHECK_THROWS_AS(window_cache({plain("in")}, 10, 0, on_missing::skip), std::invalid_argument);
  CHECK_THROWS_AS(window_cache({plain("x"), plain("x")}, 10, 1, on_missing::skip),
                  std::invalid_argument);
  window_cache c({plain("a"), plain("b")}, 10, 3, on_missing::ffill);
  CHECK(c.port_count() == 2);
  CHECK(c.period() == 3);
  CHECK(c.interval() == 10);
  CHECK(c.policy() == on_missing::ffill);
  CHECK(c.ports()[1].name == "b");
  CHECK(c.ring(0).capacity() == 3);
  CHECK_THROWS_AS(c.ring(2), std::out_of_range);
  CHECK_THROWS_AS(c.offer(2, 1, 0, iv(1)), std::out_of_range);
  CHECK_THROWS_AS(c.offer(0, 1, 0, nullptr), std::invalid_argument);
}

TEST_CASE("compute only after period buckets: warming, then fire", "[window]") {
  auto c = one_port(3);
  for (std::int64_t i = 0; i < 5; ++i) c.offer(0, i + 1, i * 10 + 3, iv(100 + i));
  // The open bucket 40 is not closed yet: 4 buckets are ready.
  auto r = drain(c);
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == fire_status::warming);
  CHECK(r[1].status == fire_status::warming);
  CHECK(r[2].status == fire_status::fire);
  CHECK(r[2].bucket == 20);
  CHECK(r[3].status == fire_status::fire);
  CHECK(r[3].bucket == 30);
  CHECK(ring_ts(c.ring(0)) == std::vector<std::int64_t>{10, 20, 30});
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{101, 102, 103});
  CHECK(c.counters().warming == 2);
  CHECK(c.counters().fired == 2);
  CHECK(c.open_bucket(0) == 40);
  c.close_through(0, 40);
  r = drain(c);
  REQUIRE(r.size() == 1);
  CHECK(r[0].bucket == 40);
  CHECK(r[0].status == fire_status::fire);
}

TEST_CASE("period 1 fires on the first bucket", "[window]") {
  auto c = one_port(1);
  c.offer(0, 1, 5, iv(7));
  c.close_through(0, 0);
  auto r = c.next_ready();
  REQUIRE(r);
  CHECK(r->status == fire_status::fire);
  CHECK(r->reason.empty());
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{7});
}

TEST_CASE("every input must close the bucket before it is processed", "[window]") {
  auto c = two_ports(1, on_missing::skip);
  c.offer(0, 1, 3, iv(1));
  c.offer(1, 1, 4, iv(2));
  // A first event closes every earlier bucket of its port: nothing can be accepted there.
  CHECK(c.closed_through(0) == -10);
  CHECK(c.closed_through() == -10);
  c.close_through(0, 0);
  CHECK(c.closed_through() == -10);
  CHECK_FALSE(c.next_ready().has_value());
  CHECK(c.ring(0).empty());  // nothing consumed while waiting
  c.close_through(1, 0);
  CHECK(c.closed_through() == 0);
  auto r = c.next_ready();
  REQUIRE(r);
  CHECK(r->bucket == 0);
  CHECK(r->status == fire_status::fire);
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{1});
  CHECK(ring_ints(c.ring(1)) == std::vector<std::int64_t>{2});
  CHECK_FALSE(c.next_ready().has_value());
}

TEST_CASE("gap under skip: no output, present ports keep history", "[window]") {
  auto c = two_ports(2, on_missing::skip);
  c.offer(0, 1, 0, iv(10));
  c.offer(1, 1, 0, iv(20));
  c.offer(0, 2, 10, iv(11));  // b has nothing in bucket 10
  c.offer(0, 3, 20, iv(12));
  c.offer(1, 2, 20, iv(22));
  c.close_through(0, 20);
  c.close_through(1, 20);
  auto r = drain(c);
  REQUIRE(r.size() == 3);
  CHECK(r[0].status == fire_status::warming);
  CHECK(r[1].bucket == 10);
  CHECK(r[1].status == fire_status::skipped);
  CHECK(r[1].reason.find("'b'") != std::string::npos);
  CHECK(r[1].reason.find("10") != std::string::npos);
  CHECK(r[2].bucket == 20);
  CHECK(r[2].status == fire_status::fire);
  CHECK(ring_ts(c.ring(0)) == std::vector<std::int64_t>{10, 20});
  CHECK(ring_ts(c.ring(1)) == std::vector<std::int64_t>{0, 20});
  CHECK(c.counters().skipped == 1);
  CHECK(c.counters().missing == 1);
  CHECK(c.counters().fired == 1);
  CHECK(c.counters().warming == 1);
  CHECK_FALSE(c.failed());
}

TEST_CASE("gap under fail: node fails with the port and bucket, never fires again", "[window]") {
  auto c = two_ports(1, on_missing::fail);
  c.offer(0, 1, 0, iv(10));
  c.offer(1, 1, 0, iv(20));
  c.offer(0, 2, 10, iv(11));
  c.offer(0, 3, 20, iv(12));
  c.offer(1, 2, 20, iv(22));
  c.close_through(0, 20);
  c.close_through(1, 20);
  auto r0 = c.next_ready();
  REQUIRE(r0);
  CHECK(r0->status == fire_status::fire);
  auto r1 = c.next_ready();
  REQUIRE(r1);
  CHECK(r1->bucket == 10);
  CHECK(r1->status == fire_status::failed);
  CHECK(r1->reason.find("'b'") != std::string::npos);
  CHECK(r1->reason.find("'a'") == std::string::npos);
  CHECK(r1->reason.find("10") != std::string::npos);
  CHECK(c.failed());
  CHECK(c.failure() == r1->reason);
  CHECK_FALSE(c.next_ready().has_value());  // bucket 20 was complete but the node is FAILED
  c.offer(0, 4, 30, iv(13));
  c.close_through(0, 30);
  c.close_through(1, 30);
  CHECK_FALSE(c.next_ready().has_value());
  CHECK(c.counters().missing == 1);
  CHECK(c.counters().fired == 1);
}

TEST_CASE("gap under ffill carries the last value, warming before the first", "[window]") {
  auto c = two_ports(2, on_missing::ffill);
  // b has nothing in bucket 0 (no value to carry yet) nor in 20 (carries 21).
  c.offer(0, 1, 0, iv(10));
  c.offer(0, 2, 10, iv(11));
  c.offer(1, 1, 10, iv(21));
  c.offer(0, 3, 20, iv(12));
  c.offer(0, 4, 30, iv(13));
  c.offer(1, 2, 30, iv(23));
  c.close_through(0, 30);
  c.close_through(1, 30);
  auto r = drain(c);
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == fire_status::warming);  // b empty, nothing to carry
  CHECK(r[1].status == fire_status::warming);  // b has only one slot
  CHECK(r[2].status == fire_status::fire);
  CHECK(r[2].bucket == 20);
  CHECK(r[3].status == fire_status::fire);
  CHECK(ring_ts(c.ring(1)) == std::vector<std::int64_t>{20, 30});
  CHECK(ring_ints(c.ring(1)) == std::vector<std::int64_t>{21, 23});
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{12, 13});
  CHECK(c.counters().missing == 2);
  CHECK(c.counters().ffilled == 1);
  CHECK(c.counters().fired == 2);
  CHECK(c.counters().warming == 2);
}

TEST_CASE("ring wraps around: oldest overwritten, time order kept", "[window]") {
  auto c = one_port(3);
  for (std::int64_t i = 0; i < 8; ++i) c.offer(0, i + 1, i * 10, iv(i));
  c.close_through(0, 70);
  auto r = drain(c);
  REQUIRE(r.size() == 8);
  const slot_ring& ring = c.ring(0);
  CHECK(ring.size() == 3);
  CHECK(ring.full());
  CHECK(ring_ts(ring) == std::vector<std::int64_t>{50, 60, 70});
  CHECK(ring_ints(ring) == std::vector<std::int64_t>{5, 6, 7});
  CHECK(c.counters().fired == 6);
  CHECK(c.counters().warming == 2);
}

TEST_CASE("out-of-order ts within the open bucket: last write wins", "[window]") {
  auto c = one_port(1);
  CHECK(c.offer(0, 1, 18, iv(1)) == offer_status::accepted);
  CHECK(c.offer(0, 2, 11, iv(2)) == offer_status::accepted);  // earlier ts, same bucket
  CHECK(c.offer(0, 3, 15, iv(3)) == offer_status::accepted);
  CHECK(c.offer(0, 4, 10, iv(4)) == offer_status::accepted);
  c.close_through(0, 10);
  auto r = c.next_ready();
  REQUIRE(r);
  CHECK(r->bucket == 10);
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{4});
  CHECK(c.counters().accepted == 4);
  CHECK(c.counters().late_dropped == 0);
}

TEST_CASE("late events after close are dropped, counted and never in the window", "[window]") {
  auto c = one_port(2);
  c.offer(0, 1, 5, iv(1));
  c.offer(0, 2, 15, iv(2));  // opens 10, closes 0
  CHECK(c.closed_through(0) == 0);
  CHECK(c.offer(0, 3, 7, iv(99)) == offer_status::late);  // bucket 0 was closed by a later event
  c.offer(0, 4, 25, iv(3));                               // opens 20, closes 10
  c.watermark(0, 39);                                     // closes 20 and 30
  CHECK(c.offer(0, 5, 12, iv(98)) == offer_status::late);
  CHECK(c.offer(0, 6, 39, iv(97)) == offer_status::late);  // bucket 30 closed by the watermark
  CHECK(c.offer(0, 7, 40, iv(4)) == offer_status::accepted);
  CHECK(c.counters().late_dropped == 3);
  CHECK(c.counters().accepted == 4);
  CHECK(c.last_seq(0) == 7u);
  auto r = drain(c);
  REQUIRE(r.size() == 3);
  CHECK(r[2].bucket == 20);
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("repeated (stream, seq) is ignored", "[window]") {
  auto c = one_port(1);
  CHECK(c.offer(0, 5, 1, iv(1)) == offer_status::accepted);
  CHECK(c.offer(0, 5, 2, iv(2)) == offer_status::duplicate);
  CHECK(c.offer(0, 4, 3, iv(3)) == offer_status::duplicate);  // below the last seq
  CHECK(c.offer(0, 0, 3, iv(3)) == offer_status::duplicate);
  CHECK(c.offer(0, 6, 4, iv(4)) == offer_status::accepted);
  CHECK(c.offer(0, 6, 5, iv(5)) == offer_status::duplicate);
  CHECK(c.counters().duplicates == 4);
  CHECK(c.counters().accepted == 2);
  c.close_through(0, 0);
  drain(c);
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{4});

  // seq 0 is a valid first seq; a late record does not advance the last seq.
  auto d = one_port(1);
  CHECK(d.offer(0, 0, 1, iv(1)) == offer_status::accepted);
  CHECK(d.offer(0, 0, 1, iv(1)) == offer_status::duplicate);
  d.close_through(0, 0);
  CHECK(d.offer(0, 1, 2, iv(2)) == offer_status::late);
  CHECK(d.last_seq(0) == 0u);
}

TEST_CASE("keyed buckets hold the latest payload of every asset", "[window]") {
  window_cache c({port_spec{"ob", false, std::string("asset")}}, 10, 1, on_missing::skip);
  CHECK(c.offer(0, 1, 1, book("BTC", 100)) == offer_status::accepted);
  CHECK(c.offer(0, 2, 2, book("ETH", 10)) == offer_status::accepted);
  CHECK(c.offer(0, 3, 3, book("BTC", 101)) == offer_status::accepted);
  CHECK(c.offer(0, 4, 4, book("SOL", 1)) == offer_status::accepted);
  CHECK(c.offer(0, 5, 5, book("ETH", 11)) == offer_status::accepted);
  CHECK(c.offer(0, 6, 6, book("BTC", 102)) == offer_status::accepted);
  CHECK(c.offer(0, 7, 7, book("SOL", 2)) == offer_status::accepted);
  // Records without a usable key are refused.
  CHECK(c.offer(0, 8, 8, iv(5)) == offer_status::missing_key);
  value_map no_key;
  no_key.emplace("px", Value(1));
  CHECK(c.offer(0, 9, 8, make_value(Value(no_key))) == offer_status::missing_key);
  value_map bad_key;
  bad_key.emplace("asset", Value(1.5));
  CHECK(c.offer(0, 10, 8, make_value(Value(bad_key))) == offer_status::missing_key);
  CHECK(c.counters().missing_key == 3);
  CHECK(c.counters().accepted == 7);
  // The next bucket starts empty: its map has only what arrived in it.
  CHECK(c.offer(0, 11, 12, book("ETH", 12)) == offer_status::accepted);
  auto r = c.next_ready();
  REQUIRE(r);
  CHECK(r->bucket == 0);
  CHECK(r->status == fire_status::fire);
  const Value& v = *c.ring(0).back().v;
  REQUIRE(v.is_map());
  const value_map& m = v.as_map();
  REQUIRE(m.size() == 3);
  auto it = m.begin();
  CHECK(it->first == "BTC");
  CHECK(it->second.find("px")->as_int() == 102);
  ++it;
  CHECK(it->first == "ETH");
  CHECK(it->second.find("px")->as_int() == 11);
  ++it;
  CHECK(it->first == "SOL");
  CHECK(it->second.find("px")->as_int() == 2);
  c.close_through(0, 10);
  REQUIRE(c.next_ready());
  REQUIRE(c.ring(0).back().v->as_map().size() == 1);
  CHECK(c.ring(0).back().v->find("ETH")->find("px")->as_int() == 12);
}

TEST_CASE("keyed buckets accept int keys as decimal strings", "[window]") {
  window_cache c({port_spec{"ob", false, std::string("id")}}, 10, 1, on_missing::skip);
  value_map a;
  a.emplace("id", Value(7));
  a.emplace("px", Value(1));
  value_map b;
  b.emplace("id", Value(7));
  b.emplace("px", Value(2));
  CHECK(c.offer(0, 1, 0, make_value(Value(a))) == offer_status::accepted);
  CHECK(c.offer(0, 2, 1, make_value(Value(b))) == offer_status::accepted);
  c.close_through(0, 0);
  REQUIRE(c.next_ready());
  const Value& v = *c.ring(0).back().v;
  REQUIRE(v.as_map().size() == 1);
  CHECK(v.find("7")->find("px")->as_int() == 2);
}

TEST_CASE("watermark closes buckets whose last ns it passed", "[window]") {
  auto c = one_port(1);
  c.offer(0, 1, 3, iv(1));
  CHECK(c.closed_through(0) == -10);
  c.watermark(0, 8);  // bucket 0 spans 0..9: not yet
  CHECK(c.closed_through(0) == -10);
  CHECK(c.open_bucket(0) == 0);
  CHECK_FALSE(c.next_ready().has_value());
  c.watermark(0, 9);
  CHECK(c.closed_through(0) == 0);
  CHECK_FALSE(c.open_bucket(0).has_value());
  CHECK(c.pending_count(0) == 1);
  REQUIRE(c.next_ready());
  c.watermark(0, 28);  // closes 10 only (20 ends at 29)
  CHECK(c.closed_through(0) == 10);
  c.watermark(0, 5);  // an older watermark never reopens anything
  CHECK(c.closed_through(0) == 10);
  c.watermark(0, -1);
  CHECK(c.closed_through(0) == 10);
  c.watermark(0, k_max);
  CHECK(c.closed_through(0) == k_max - 17);  // ...790: the bucket ...800 ends past INT64_MAX
  c.watermark(0, k_min);                     // must not overflow
  CHECK(c.closed_through(0) > 0);

  auto n = one_port(1);  // negative event times
  n.watermark(0, -11);   // bucket -20 spans -20..-11
  CHECK(n.closed_through(0) == -20);
}

TEST_CASE("one_per_bucket ports close a bucket on its first write", "[window]") {
  auto c = one_port(1, on_missing::skip, true);
  CHECK(c.offer(0, 1, 13, iv(1)) == offer_status::accepted);
  CHECK(c.closed_through(0) == 10);
  CHECK_FALSE(c.open_bucket(0).has_value());
  auto r = c.next_ready();
  REQUIRE(r);
  CHECK(r->bucket == 10);
  CHECK(r->status == fire_status::fire);
  CHECK(c.offer(0, 2, 17, iv(2)) == offer_status::late);  // second write to a closed bucket
  CHECK(c.offer(0, 3, 40, iv(3)) == offer_status::accepted);
  CHECK(c.closed_through(0) == 40);
  r = c.next_ready();
  REQUIRE(r);
  CHECK(r->bucket == 40);
  CHECK(ring_ints(c.ring(0)) == std::vector<std::int64_t>{3});
  CHECK(c.counters().late_dropped == 1);
}

TEST_CASE("close_through never lowers the closed bucket", "[window]") {
  auto c = one_port(1);
  c.close_through(0, 50);
  CHECK(c.closed_through(0) == 50);
  c.close_through(0, 20);
  CHECK(c.closed_through(0) == 50);
  c.close_through(0, k_min);
  CHECK(c.closed_through(0) == 50);
  c.close_through(0, 67);  // unaligned: floored to its bucket
  CHECK(c.closed_through(0) == 60);
  CHECK(c.offer(0, 1, 69, iv(1)) == offer_status::late);
  CHECK(c.offer(0, 2, 70, iv(2)) == offer_status::accepted);
  c.close_through(0, 60);  // does not close the open bucket 70
  CHECK(c.open_bucket(0) == 70);
  c.close_through(0, 70);
  CHECK_FALSE(c.open_bucket(0).has_value());
  CHECK(c.pending_count(0) == 1);
}

TEST_CASE("closed_through is the minimum over ports", "[window]") {
  window_cache c({plain("a"), plain("b"), plain("c")}, 10, 1, on_missing::skip);
  CHECK(c.closed_through() == k_min);
  c.close_through(0, 30);
  c.close_through(1, 10);
  CHECK(c.closed_through() == k_min);
  c.close_through(2, 20);
  CHECK(c.closed_through() == 10);
  c.close_through(1, 40);
  CHECK(c.closed_through() == 20);
  window_cache none({}, 10, 1, on_missing::skip);
  CHECK(none.closed_through() == k_min);
  CHECK_FALSE(none.next_ready().has_value());
}

TEST_CASE("buckets are processed in increasing order across ports", "[window]") {
  auto c = two_ports(1, on_missing::skip);
  c.offer(0, 1, 20, iv(1));
  c.offer(1, 1, 0, iv(2));
  c.offer(1, 2, 10, iv(3));
  c.close_through(0, 20);
  c.close_through(1, 20);
  auto r = drain(c);
  REQUIRE(r.size() == 3);
  CHECK(r[0].bucket == 0);
  CHECK(r[1].bucket == 10);
  CHECK(r[2].bucket == 20);
  CHECK(r[0].status == fire_status::skipped);
  CHECK(r[2].status == fire_status::skipped);
  CHECK(ring_ts(c.ring(1)) == std::vector<std::int64_t>{10});
  CHECK(c.counters().missing == 3);
}

TEST_CASE("resident_bytes counts payloads and stays bounded when the ring wraps", "[window]") {
  auto big = [](std::size_t n) { return make_value(Value(f64_vector(n, 1.0))); };
  auto c = one_port(2);
  const std::size_t empty = c.resident_bytes();
  c.offer(0, 1, 0, big(10));
  const std::size_t small = c.resident_bytes();
  CHECK(small > empty);
  auto d = one_port(2);
  d.offer(0, 1, 0, big(1000));
  CHECK(d.resident_bytes() >= small + 990 * sizeof(double));

  // Wrap the ring many times: after warm-up the footprint is constant.
  auto w = one_port(4);
  std::size_t after_warmup = 0;
  for (std::int64_t i = 0; i < 200; ++i) {
    w.offer(0, i + 1, i * 10, big(100));
    drain(w);
    if (i == 10) after_warmup = w.resident_bytes();
  }
  CHECK(after_warmup > 4 * 100 * sizeof(double));
  CHECK(w.resident_bytes() == after_warmup);
  CHECK(w.ring(0).size() == 4);

  // Closed-but-unprocessed buckets count too.
  auto p = two_ports(1, on_missing::skip);
  p.offer(0, 1, 0, big(500));
  p.offer(0, 2, 10, big(500));
  const std::size_t one_pending = p.resident_bytes();
  p.offer(0, 3, 20, big(500));
  CHECK(p.resident_bytes() >= one_pending + 500 * sizeof(double));

  // A forward-filled slot shares its payload: counted once.
  auto f = two_ports(3, on_missing::ffill);
  f.offer(0, 1, 0, iv(1));
  f.offer(1, 1, 0, big(1000));
  f.close_through(0, 0);
  f.close_through(1, 0);
  drain(f);
  const std::size_t before = f.resident_bytes();
  f.offer(0, 2, 10, iv(2));
  f.close_through(0, 10);
  f.close_through(1, 10);
  drain(f);
  CHECK(f.counters().ffilled == 1);
  CHECK(f.ring(1).size() == 2);
  CHECK(f.ring(1)[0].v == f.ring(1)[1].v);
  CHECK(f.resident_bytes() > before);
  CHECK(f.resident_bytes() < before + 1000 * sizeof(double));
}

namespace {

// Straightforward reference for one port: a map bucket -> last value, late = at or before the
// latest accepted bucket's predecessors or covered by the latest watermark.
struct reference_model {
  bool one_per_bucket = false;
  std::optional<std::uint64_t> last_seq;
  std::optional<std::int64_t> max_bucket;
  std::int64_t watermark_ts = k_min;
  std::map<std::int64_t, std::int64_t> values;
  std::uint64_t duplicates = 0, late = 0, accepted = 0;

  static std::int64_t floor10(std::int64_t ts) {
    // Independent of bucket_of: integer division rounding toward -infinity.
    std::int64_t q = ts / 10;
    if (ts % 10 != 0 && ts < 0) --q;
    return q * 10;
  }
  bool closed(std::int64_t b) const {
    if (b + 9 <= watermark_ts) return true;
    if (max_bucket && b < *max_bucket) return true;
    return one_per_bucket && max_bucket && b == *max_bucket;
  }
  void offer(std::uint64_t seq, std::int64_t ts, std::int64_t v) {
    if (last_seq && seq <= *last_seq) {
      ++duplicates;
      return;
    }
    std::int64_t b = floor10(ts);
    if (closed(b)) {
      ++late;
      return;
    }
    ++accepted;
    last_seq = seq;
    max_bucket = b;
    values[b] = v;
  }
  std::size_t closed_count() const {
    std::size_t n = 0;
    for (const auto& [b, v] : values) n += closed(b) ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("property: random single-port streams match a reference model", "[window]") {
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    const std::size_t period = 1 + rng() % 4;
    const bool opb = seed % 3 == 0;
    auto c = one_port(period, on_missing::skip, opb);
    reference_model ref;
    ref.one_per_bucket = opb;

    std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>> fired_windows;
    std::vector<std::int64_t> processed;
    auto collect = [&] {
      while (auto r = c.next_ready()) {
        processed.push_back(r->bucket);
        REQUIRE((r->status == fire_status::fire || r->status == fire_status::warming));
        if (r->status == fire_status::fire) {
          CHECK(c.ring(0).size() == period);
          fired_windows.emplace_back(r->bucket, ring_ints(c.ring(0)));
          CHECK(c.ring(0).back().t == r->bucket);
        }
      }
    };

    std::uint64_t seq = 0;
    std::int64_t base = -200;  // start negative to exercise floor bucketing
    for (int step = 0; step < 300; ++step) {
      const unsigned op = rng() % 20;
      if (op == 0) {
        const std::int64_t wm = base - static_cast<std::int64_t>(rng() % 30);
        c.watermark(0, wm);
        ref.watermark_ts = std::max(ref.watermark_ts, wm);
      } else {
        std::uint64_t s = seq + 1 + rng() % 2;
        if (op == 1 && seq > 0) s = seq - rng() % std::min<std::uint64_t>(seq, 3);  // redelivery
        const std::int64_t ts = base + static_cast<std::int64_t>(rng() % 40) - 25;
        const std::int64_t v = static_cast<std::int64_t>(s) * 1000 + step;
        c.offer(0, s, ts, iv(v));
        ref.offer(s, ts, v);
        seq = std::max(seq, s);
        base += static_cast<std::int64_t>(rng() % 6);
      }
      collect();
      // Promptness: exactly the buckets the reference considers closed have been processed.
      REQUIRE(processed.size() == ref.closed_count());
    }
    c.close_through(0, k_max);
    collect();

    std::vector<std::int64_t> ref_buckets;
    for (const auto& [b, v] : ref.values) ref_buckets.push_back(b);
    CHECK(processed == ref_buckets);
    std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>> expected;
    std::vector<std::int64_t> ref_vals;
    for (const auto& [b, v] : ref.values) {
      ref_vals.push_back(v);
      if (ref_vals.size() >= period)
        expected.emplace_back(b,
                              std::vector<std::int64_t>(ref_vals.end() - period, ref_vals.end()));
    }
    CHECK(fired_windows == expected);
    CHECK(c.counters().duplicates == ref.duplicates);
    CHECK(c.counters().late_dropped == ref.late);
    CHECK(c.counters().accepted == ref.accepted);
    CHECK(c.counters().fired == expected.size());
    CHECK(c.counters().warming == ref.values.size() - expected.size());
  }
}
