// esof: scores and labels against datetime + math.sin/cos (tests/reference/esof.py), params.
#include <catch2/catch.hpp>

#include <string>

#include "actors/esof/esof.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("esof: matches datetime + math.sin/cos (tests/reference/esof.py)", "[kinds][esof]") {
  register_regime_kinds();
  const auto ref = load_reference("esof.json");
  REQUIRE(ref["cases"].size() >= 20);
  bool saw_negative = false;
  for (const auto& c : ref["cases"]) {
    const auto t = c["t_ns"].get<std::int64_t>();
    INFO("t_ns " << t << " (" << c["iso"].get<std::string>() << ")");
    saw_negative |= t < 0;
    const auto cal = esof_calendar_of(t);
    CHECK(cal.minute_of_day == c["minute_of_day"].get<std::int64_t>());
    CHECK(cal.weekday == c["weekday"].get<std::int64_t>());
    // Through the kernel, interval 1 ns so the bucket is t itself.
    kernel_harness h("esof", {}, 0, std::string(64, 'a'), 1);
    auto out = feed1(h, t, Value{});  // the payload is ignored
    REQUIRE(out);
    REQUIRE_NOTHROW(validate_esof(*out));
    CHECK(out->find("score")->as_double() ==
          Approx(c["score"].get<double>()).margin(1e-12).epsilon(0));
    CHECK(out->find("label")->as_string() == c["label"].get<std::string>());
  }
  CHECK(saw_negative);
}

TEST_CASE("esof: labels at the thresholds, params", "[kinds][esof]") {
  register_regime_kinds();
  CHECK(std::string(esof_label(0.3)) == "FAVORABLE");
  CHECK(std::string(esof_label(0.2999)) == "NEUTRAL");
  CHECK(std::string(esof_label(-0.3)) == "UNFAVORABLE");
  CHECK(std::string(esof_label(-0.2999)) == "NEUTRAL");
  // Monday 06:00 UTC: 0.6 sin(π/2) + 0.4 cos 0 = 1.0, the top of the range.
  CHECK(esof_score(1'704'088'800 * sec) == 1.0);
  // A bucket one minute wide at 1969-12-31 23:59 (negative): minute 1439, Wednesday (2).
  const auto cal = esof_calendar_of(-60 * sec);
  CHECK(cal.minute_of_day == 1439);
  CHECK(cal.weekday == 2);
  CHECK(find_kind("esof")->normalize({}).empty());
  CHECK(param_error_key("esof", {{"tz", Value("UTC")}}) == "tz");
}
