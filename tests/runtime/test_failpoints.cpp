// failpoints: SHOAL_FAILPOINTS texts, read or refused with the reason, and a fault that throws
// at its bucket only, every time or its first N times.
#include <catch2/catch.hpp>

#include "runtime/engine/failpoints.hpp"

using namespace shoal;

TEST_CASE("runtime: failpoints: kernel_throw at a bucket, every time or the first N times",
          "[runtime][failpoints]") {
  const auto faults = parse_failpoints("kernel_throw=smooth@1000;;kernel_throw=zs@-5*2");
  REQUIRE(faults.size() == 2);
  const auto& always = *faults[0];
  CHECK(always.name == "smooth");
  CHECK(always.bucket == 1000);
  CHECK_FALSE(faults[0]->hit(999));
  for (int i = 0; i < 5; ++i) CHECK(faults[0]->hit(1000));

  auto& twice = *faults[1];
  CHECK(twice.name == "zs");
  CHECK_FALSE(twice.hit(0));  // another bucket does not count
  CHECK(twice.hit(-5));
  CHECK(twice.hit(-5));
  CHECK_FALSE(twice.hit(-5));  // the transient fault is over
}

TEST_CASE("runtime: failpoints: flags beside kernel faults", "[runtime][failpoints]") {
  const std::string text = "take_fail;kernel_throw=smooth@1000";
  CHECK(parse_failpoints(text).size() == 1);
  CHECK(parse_failpoint_flags(text) == std::vector<std::string>{"take_fail"});
  CHECK(parse_failpoint_flags("kernel_throw=smooth@1000").empty());
  CHECK(parse_failpoint_flags("join_stall;take_fail;backfill_slow;stop_unread") ==
        std::vector<std::string>{"join_stall", "take_fail", "backfill_slow", "stop_unread"});
  CHECK_THROWS_AS(parse_failpoint_flags("take_fail;take_fails"), std::invalid_argument);
  // cost_scale=K is neither a kernel fault nor a flag (failpoint_cost_scale reads it).
  CHECK(parse_failpoints("cost_scale=1000;take_fail").empty());
  CHECK(parse_failpoint_flags("cost_scale=1000;take_fail") ==
        std::vector<std::string>{"take_fail"});
}

TEST_CASE("runtime: failpoints: a text that cannot be read is refused, naming the item",
          "[runtime][failpoints]") {
  CHECK(parse_failpoints("").empty());
  for (const char* bad : {"kernel_slow=smooth@1", "kernel_throw=smooth", "kernel_throw=@5",
                          "kernel_throw=smooth@12x", "kernel_throw=smooth@5*",
                          "kernel_throw=a@5*-1", "cost_scale=0", "cost_scale=x", "cost_scale="}) {
    INFO(bad);
    try {
      parse_failpoints(bad);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(std::string("\"") + bad + "\"") != std::string::npos);
    }
  }
}
