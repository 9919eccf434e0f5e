// lag_alarm: when a lag's age is logged — from the threshold on, again only once a minute while
// it lasts, and once when it has ended (below a fifth of the threshold), with the worst age seen.
#include "runtime/cluster/lag_alarm.hpp"

#include <catch2/catch.hpp>

using namespace shoal;
using namespace std::chrono_literals;
using step = lag_alarm::step;

namespace {
const lag_alarm::time_point t0{};
}

TEST_CASE("lag alarm: quiet below the threshold") {
  lag_alarm a(5s);
  CHECK(a.observe(0ms, t0) == step::quiet);
  CHECK(a.observe(4999ms, t0 + 1s) == step::quiet);
  CHECK(a.observe(100ms, t0 + 2s) == step::quiet);  // nothing to end: never warned
}

TEST_CASE("lag alarm: warns at the threshold then once a minute while the lag lasts") {
  lag_alarm a(5s);
  CHECK(a.observe(5000ms, t0) == step::warn);
  CHECK(a.observe(9000ms, t0 + 4s) == step::quiet);
  CHECK(a.observe(30s, t0 + 59s) == step::quiet);
  CHECK(a.observe(31s, t0 + 60s) == step::warn);
  CHECK(a.observe(20s, t0 + 61s) == step::quiet);
  CHECK(a.worst() == 31s);
}

TEST_CASE("lag alarm: ends below a fifth of the threshold with the worst age seen") {
  lag_alarm a(5s);
  CHECK(a.observe(6s, t0) == step::warn);
  CHECK(a.observe(12s, t0 + 6s) == step::quiet);
  // Between a fifth of the threshold and the threshold: neither a warning nor an end, so an age
  // hovering near the threshold does not warn and clear by turns.
  CHECK(a.observe(4s, t0 + 7s) == step::quiet);
  CHECK(a.observe(1000ms, t0 + 8s) == step::quiet);
  CHECK(a.observe(999ms, t0 + 9s) == step::ended);
  CHECK(a.worst() == 12s);
  CHECK(a.observe(0ms, t0 + 10s) == step::quiet);  // ended once
  // A new lag warns at once (not a minute after the last warning) and has its own worst.
  CHECK(a.observe(7s, t0 + 20s) == step::warn);
  CHECK(a.worst() == 7s);
}
