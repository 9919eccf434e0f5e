// posture: each stress level's posture, malformed acb outputs give nil, params.
#include <catch2/catch.hpp>

#include <cmath>
#include <iterator>

#include "actors/acb/acb.hpp"
#include "actors/posture/posture.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("posture: stress -> posture, malformed acb -> nil", "[kinds][posture]") {
  register_regime_kinds();
  kernel_harness h("posture");
  const char* want[] = {"APEX", "STALKER", "TURTLE", "HIBERNATE"};
  std::int64_t t = 0;
  for (std::int64_t s = 0; s < 4; ++s) {
    auto out = feed1(h, t++ * sec, acb_value(s));
    REQUIRE(out);
    REQUIRE_NOTHROW(validate_posture(*out));
    CHECK(out->find("posture")->as_string() == want[s]);
  }
  const Value bad[] = {
      Value{},
      Value("APEX"),
      Value(value_map{{"boost", Value(1.0)}, {"beta", Value(1.0)}, {"stress", Value(4)}}),
      Value(value_map{{"boost", Value(1.0)}, {"beta", Value(1.0)}, {"stress", Value(-1)}}),
      Value(value_map{{"boost", Value(1.0)}, {"beta", Value(1.0)}, {"stress", Value(2.0)}}),
      Value(value_map{{"boost", Value(1.0)}, {"beta", Value(1.0)}, {"stress", Value("2")}}),
      Value(value_map{{"boost", Value(NAN)}, {"beta", Value(1.0)}, {"stress", Value(1)}}),
      Value(value_map{{"beta", Value(1.0)}, {"stress", Value(1)}}),
  };
  for (const auto& v : bad) {
    auto out = feed1(h, t++ * sec, v);
    REQUIRE(out);
    CHECK(out->is_nil());
  }
  CHECK(note_count(h.kern(), "malformed_acb") == std::size(bad));
  CHECK(posture_of_stress(4) == nullptr);
  CHECK(param_error_key("posture", {{"x", Value(1)}}) == "x");
}
