#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/metrics/stage_latency.hpp"

using namespace shoal;

TEST_CASE("stage latency: a sample lands in the first bucket whose bound holds it",
          "[stage_latency]") {
  stage_latency l;
  l.record_ns(latency_stage::send, 5'000);          // exactly the first bound: le="5e-06"
  l.record_ns(latency_stage::send, 5'001);          // just above: the 10 µs bucket
  l.record_ns(latency_stage::send, 3'000'000);      // 3 ms: the 5 ms bucket
  l.record_ns(latency_stage::send, -7);             // a clock step backwards counts as 0
  l.record_ns(latency_stage::send, 5'000'000'000);  // 5 s: +Inf
  const auto h = l.snapshot(latency_stage::send);
  CHECK(h.count() == 5);
  CHECK(h.counts[0] == 2);
  CHECK(h.counts[1] == 1);
  CHECK(h.counts[9] == 1);  // bounds[9] is 5 ms
  CHECK(latency_bounds_s[9] == 0.005);
  CHECK(h.counts.back() == 1);
  CHECK(h.sum_s == Approx(5.003010001));
  CHECK(h.quantile_bound(0.4) == 5e-6);
  CHECK(h.quantile_bound(0.6) == 1e-5);
  CHECK(h.quantile_bound(0.8) == 0.005);
  CHECK(std::isinf(h.quantile_bound(1.0)));
  // Stages are kept apart; a receipt of 0 (no receipt) records nothing.
  CHECK(l.snapshot(latency_stage::fire).count() == 0);
  l.record(latency_stage::fire, 0);
  CHECK(l.snapshot(latency_stage::fire).count() == 0);
  l.record(latency_stage::fire, stage_latency::now_ns());
  CHECK(l.snapshot(latency_stage::fire).count() == 1);
  CHECK(to_string(latency_stage::encode) == "encode");
}
