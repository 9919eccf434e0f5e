// sizing: SizingFactors, each multiplier, clamping, nil and malformed inputs, params.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "actors/sizing/sizing.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

namespace {
// Runs sizing_cases through one sizing kernel, one bucket each.
struct sizing_runner {
  kernel_harness h;
  std::int64_t t = 0;
  explicit sizing_runner(value_map params = {}) : h("sizing", std::move(params)) {}
  Value run(const sizing_case& c) {
    auto out = h.feed(t++ * sec, c.values());
    REQUIRE(out);
    return *out;
  }
  double size(const sizing_case& c) {
    const Value v = run(c);
    REQUIRE(v.is_map());
    return v.find("size")->as_double();
  }
};
}  // namespace

// Baseline (SHORT, median -0.2 favours it, agreement 80):
//   1.0 base · 1 APEX · 1.2 boost · 0.85 beta · 1.0 mc · 1 CONFIRM · (1 + 0.1·0.5) · ob
//   ob = 0.5 + 0.5·80/100 = 0.9
//   = 1.2 · 0.85 = 1.02; · 1.05 = 1.071; · 0.9 = 0.9639
TEST_CASE("sizing: SizingFactors and the baseline size", "[kinds][sizing]") {
  register_regime_kinds();
  sizing_runner r;
  const Value v = r.run(sizing_case{});
  REQUIRE(v.is_map());
  CHECK(v.as_map().size() == 11);
  CHECK(v.find("asset")->as_string() == "BTC");
  CHECK(v.find("direction")->as_string() == "SHORT");
  CHECK(v.find("posture")->as_string() == "APEX");
  CHECK(v.find("esof_score")->as_double() == 0.5);
  CHECK(v.find("boost")->as_double() == 1.2);
  CHECK(v.find("beta")->as_double() == 0.85);
  CHECK(v.find("mc_scale")->as_double() == 1.0);
  CHECK(v.find("ob_median_imbalance")->as_double() == -0.2);
  CHECK(v.find("ob_agreement_pct")->as_double() == 80.0);
  CHECK(v.find("dc_status")->as_string() == "CONFIRM");
  CHECK(v.find("size")->as_double() == Approx(0.9639).epsilon(1e-14));
}

TEST_CASE("sizing: each multiplier's effect", "[kinds][sizing]") {
  register_regime_kinds();
  sizing_runner r;
  const double base = 0.9639;
  auto with = [](auto f) {
    sizing_case c;
    f(c);
    return c;
  };
  // posture: × 0.75, × 0.4, × 0
  CHECK(r.size(with([](auto& c) { c.posture = "STALKER"; })) == Approx(base * 0.75));
  CHECK(r.size(with([](auto& c) { c.posture = "TURTLE"; })) == Approx(base * 0.4));
  CHECK(r.size(with([](auto& c) { c.posture = "HIBERNATE"; })) == 0.0);
  // dc: NEUTRAL × 0.5, SKIP_CONTRADICT and INSUFFICIENT → 0
  CHECK(r.size(with([](auto& c) { c.dc_status = "NEUTRAL"; })) == Approx(base * 0.5));
  CHECK(r.size(with([](auto& c) { c.dc_status = "SKIP_CONTRADICT"; })) == 0.0);
  CHECK(r.size(with([](auto& c) { c.dc_status = "INSUFFICIENT"; })) == 0.0);
  // mc scale 0.5 halves, 0 zeroes
  CHECK(r.size(with([](auto& c) { c.mc_scale = 0.5; })) == Approx(base * 0.5));
  CHECK(r.size(with([](auto& c) { c.mc_scale = 0.0; })) == 0.0);
  // esof -1: (1 - 0.1) / (1 + 0.05) of the baseline: 1.02 · 0.9 · 0.9 = 0.8262
  CHECK(r.size(with([](auto& c) { c.esof = -1.0; })) == Approx(0.8262));
  // boost and beta scale linearly: 1.0 · 1.0 · 1.05 · 0.9 = 0.945
  CHECK(r.size(with([](auto& c) {
    c.boost = 1.0;
    c.beta = 1.0;
  })) == Approx(0.945));
  // base 2: twice the baseline
  sizing_runner r2({{"base", Value(2.0)}});
  CHECK(r2.size(sizing_case{}) == Approx(base * 2));
}

TEST_CASE("sizing: ob multiplier by imbalance sign and direction", "[kinds][sizing]") {
  register_regime_kinds();
  sizing_runner r;
  // Without ob: 1.2 · 0.85 · 1.05 = 1.071; ob 0.9 when favoured (agreement 80), else 0.5.
  struct row {
    const char* direction;
    double median;
    double ob_mult;
  };
  const row rows[] = {
      {"SHORT", -0.2, 0.9}, {"SHORT", 0.2, 0.5}, {"SHORT", 0.0, 0.5},
      {"LONG", 0.2, 0.9},   {"LONG", -0.2, 0.5}, {"LONG", 0.0, 0.5},
  };
  for (const auto& x : rows) {
    INFO(x.direction << " median " << x.median);
    sizing_case c;
    c.direction = x.direction;
    c.median = x.median;
    CHECK(r.size(c) == Approx(1.071 * x.ob_mult));
  }
  // Agreement 0 or 100 at the ends: 0.5 and 1.0.
  sizing_case c;
  c.agreement = 100.0;
  CHECK(r.size(c) == Approx(1.071));
  c.agreement = 0.0;
  CHECK(r.size(c) == Approx(1.071 * 0.5));
  CHECK(ob_multiplier("LONG", 1e-300, 50.0) == 0.75);
}

TEST_CASE("sizing: clamping to [0, max_size]", "[kinds][sizing]") {
  register_regime_kinds();
  sizing_runner r;
  sizing_case big;
  big.boost = 5.0;  // 5 · 0.85 · 1.05 · 0.9 = 4.016 → 2.0
  CHECK(r.size(big) == 2.0);
  sizing_case neg;
  neg.beta = -0.5;  // negative product → 0
  CHECK(r.size(neg) == 0.0);
  sizing_runner r3({{"base", Value(10.0)}, {"max_size", Value(3)}});
  CHECK(r3.size(sizing_case{}) == 3.0);  // 9.639 → 3
  // A finite but overflowing product never leaves as inf or NaN.
  sizing_case huge;
  huge.boost = 1e300;
  huge.beta = 1e300;
  CHECK(r.run(huge).is_nil());
  CHECK(note_count(r.h.kern(), "non_finite_result") == 1);
}

TEST_CASE("sizing: nil selector, malformed inputs, dc mismatch -> nil, noted", "[kinds][sizing]") {
  register_regime_kinds();
  sizing_runner r;
  sizing_case none;
  none.nil_selection = true;
  CHECK(r.run(none).is_nil());
  CHECK(note_count(r.h.kern(), "no_selection") == 1);

  sizing_case bad_posture;
  bad_posture.posture = "SLEEPY";
  CHECK(r.run(bad_posture).is_nil());
  CHECK(note_count(r.h.kern(), "malformed_posture") == 1);

  sizing_case bad_esof;
  bad_esof.esof = 1.5;  // outside [-1, 1]
  CHECK(r.run(bad_esof).is_nil());
  CHECK(note_count(r.h.kern(), "malformed_esof") == 1);

  sizing_case bad_ob;
  bad_ob.agreement = NAN;
  CHECK(r.run(bad_ob).is_nil());
  CHECK(note_count(r.h.kern(), "malformed_ob") == 1);

  sizing_case bad_dir;
  bad_dir.direction = "FLAT";
  CHECK(r.run(bad_dir).is_nil());
  CHECK(note_count(r.h.kern(), "malformed_select") == 1);

  auto vals = sizing_case{}.values();
  vals[1] = Value(value_map{{"asset", Value("ETH")},
                            {"direction", Value("SHORT")},
                            {"change_bps", Value(-3.0)},
                            {"status", Value("CONFIRM")}});
  auto out = r.h.feed(r.t++ * sec, vals);
  REQUIRE(out);
  CHECK(out->is_nil());
  CHECK(note_count(r.h.kern(), "dc_mismatch") == 1);

  vals = sizing_case{}.values();
  vals[5] = Value(value_map{{"status", Value("BLUE")}, {"scale", Value(1.0)}});
  out = r.h.feed(r.t++ * sec, vals);
  CHECK(out->is_nil());
  CHECK(note_count(r.h.kern(), "malformed_mc") == 1);
}

TEST_CASE("sizing: pure function reuse and params", "[kinds][sizing][params]") {
  register_regime_kinds();
  sizing_inputs in;  // neutral defaults: boost 1, beta 1, mc 1, esof 0, ob 0/0
  in.asset = "ETH";
  in.direction = "LONG";
  in.posture = "STALKER";
  in.dc_status = "NEUTRAL";
  // 1 · 0.75 · 1 · 1 · 1 · 0.5 · 1 · 0.5 = 0.1875 (exact in binary)
  const auto f = compute_sizing(in, sizing_params{});
  REQUIRE(f);
  CHECK(f->size == 0.1875);
  CHECK(*sizing_size(in, sizing_params{}) == 0.1875);
  const Value v = to_value(*f);
  CHECK(v.find("size")->as_double() == 0.1875);
  CHECK(v.find("ob_agreement_pct")->as_double() == 0.0);
  in.posture = "NAP";
  CHECK_FALSE(compute_sizing(in, sizing_params{}));

  const auto norm = find_kind("sizing")->normalize({});
  CHECK(norm.at("base") == Value(1.0));
  CHECK(norm.at("max_size") == Value(2.0));
  CHECK(find_kind("sizing")->ports ==
        std::vector<std::string>{"select", "dc", "posture", "esof", "acb", "mc", "ob"});
  CHECK(param_error_key("sizing", {{"bse", Value(1.0)}}) == "bse");
  CHECK(param_error_key("sizing", {{"base", Value("1")}}) == "base");
  CHECK(param_error_key("sizing", {{"base", Value(-1.0)}}) == "base");
  CHECK(param_error_key("sizing", {{"max_size", Value(-2.0)}}) == "max_size");
}
