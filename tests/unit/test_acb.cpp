// acb: stress, beta and boost by hand, warm-up and window rules, malformed input, params.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "actors/acb/acb.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

namespace {

// Feeds mean_returns (one scanner output per bucket, shares/vel_div as given for the last)
// and returns the last output.
std::optional<Value> feed_acb(kernel_harness& h, const std::vector<double>& mean_returns,
                              double share_short, double vel_div, std::int64_t t0 = 0) {
  std::optional<Value> out;
  for (std::size_t i = 0; i < mean_returns.size(); ++i)
    out = feed1(h, t0 + static_cast<std::int64_t>(i) * sec,
                scanner(share_short, vel_div, mean_returns[i]));
  return out;
}

}  // namespace

// vol_window = 4 keeps the arithmetic by hand:
//   flat  = [0.001, 0.001, 0.001, 0.001]: std = 0                      -> no vol stress
//   swing = [0, 0.002, 0, 0.002]: mean 0.001, deviations ±0.001,
//           ss = 4 · 1e-6 = 4e-6, var = 4e-6 / 3 = 1.333e-6, std = 0.0011547 >= 0.001 -> vol
// boost = 1 + 0.5 ln(1 + (3 - stress)):
//   stress 0: 1 + 0.5 ln 4 = 1.6931471805599454   stress 1: 1 + 0.5 ln 3 = 1.5493061443340549
//   stress 2: 1 + 0.5 ln 2 = 1.3465735902799727   stress 3: 1 + 0.5 ln 1 = 1
TEST_CASE("acb: stress, beta and boost at each stress level", "[kinds][acb]") {
  register_regime_kinds();
  const std::vector<double> flat{0.001, 0.001, 0.001, 0.001};
  const std::vector<double> swing{0.0, 0.002, 0.0, 0.002};
  struct row {
    std::vector<double> rets;
    double share, vel_div;
    std::int64_t stress;
    double beta, boost;
  };
  const row rows[] = {
      // share 0.4 < 0.5, |0.01| < 0.02, std 0 < 0.001                     -> 0
      {flat, 0.4, 0.01, 0, 1.0, 1.6931471805599454},
      // share 0.5 >= 0.5 (boundary counts), vel_div 0, std 0               -> 1
      {flat, 0.5, 0.0, 1, 0.85, 1.5493061443340549},
      // share 0.3, |-0.02| >= 0.02 (boundary counts), std 0.0011547        -> 2
      {swing, 0.3, -0.02, 2, 0.55, 1.3465735902799727},
      // share 0.9, |0.05|, std 0.0011547                                   -> 3
      {swing, 0.9, 0.05, 3, 0.25, 1.0},
      // only the vol term: share 0.2, vel_div 0.019                        -> 1
      {swing, 0.2, 0.019, 1, 0.85, 1.5493061443340549},
  };
  for (const auto& r : rows) {
    kernel_harness h("acb", {{"vol_window", Value(4)}});
    auto out = feed_acb(h, r.rets, r.share, r.vel_div);
    INFO("share " << r.share << " vel_div " << r.vel_div);
    REQUIRE(out);
    REQUIRE_NOTHROW(validate_acb(*out));
    CHECK(out->find("stress")->as_int() == r.stress);
    CHECK(out->find("beta")->as_double() == r.beta);
    CHECK(out->find("boost")->as_double() == Approx(r.boost).epsilon(1e-15));
    CHECK(out->as_map().size() == 3);
  }
  CHECK(acb_boost(0) == Approx(1.0 + 0.5 * std::log(4.0)));
}

TEST_CASE("acb: warm-up, window order, short window absent, gaps", "[kinds][acb]") {
  register_regime_kinds();
  SECTION("no output until vol_window buckets; then one per bucket") {
    kernel_harness h("acb", {{"vol_window", Value(4)}});
    for (int i = 0; i < 3; ++i) CHECK_FALSE(feed1(h, i * sec, scanner(0.1, 0.0, 0.001)));
    CHECK(feed1(h, 3 * sec, scanner(0.1, 0.0, 0.001)));
  }
  SECTION("the share is found by window length, not position") {
    kernel_harness h("acb", {{"vol_window", Value(2)}});
    // windows [150, 50]: share(50) = 0.7 is the second entry -> stress 1 from the share alone.
    feed1(h, 0, scanner(0, 0, 0.001, {150, 50}, {0.1, 0.7}));
    auto out = feed1(h, sec, scanner(0, 0, 0.001, {150, 50}, {0.1, 0.7}));
    REQUIRE(out);
    CHECK(out->find("stress")->as_int() == 1);
  }
  SECTION("share as a list of numbers is read too") {
    kernel_harness h("acb", {{"vol_window", Value(2)}});
    Value s = scanner(0, 0, 0.001);
    s.as_map()["share"] = Value(value_list{Value(1), Value(0.2)});  // int 1 = share 1.0
    feed1(h, 0, s);
    auto out = feed1(h, sec, s);
    REQUIRE(out);
    CHECK(out->find("stress")->as_int() == 1);
  }
  SECTION("short not among the scanner's windows -> nil, noted") {
    kernel_harness h("acb", {{"vol_window", Value(2)}, {"short", Value(30)}});
    feed1(h, 0, scanner(0.9, 0.0, 0.001));
    auto out = feed1(h, sec, scanner(0.9, 0.0, 0.001));
    REQUIRE(out);
    CHECK(out->is_nil());
    CHECK(note_count(h.kern(), "short_window_absent") == 1);
  }
  SECTION("a slot without a finite mean_return -> nil for the buckets that see it") {
    kernel_harness h("acb", {{"vol_window", Value(2)}});
    feed1(h, 0, scanner(0.1, 0.0, 0.001));
    Value bad = scanner(0.1, 0.0, 0.0);
    bad.as_map()["mean_return"] = Value{};
    auto out = feed1(h, sec, bad);
    REQUIRE(out);
    CHECK(out->is_nil());
    out = feed1(h, 2 * sec, scanner(0.1, 0.0, 0.001));
    CHECK(out->is_nil());  // still in the window
    out = feed1(h, 3 * sec, scanner(0.1, 0.0, 0.001));
    CHECK(out->find("stress")->as_int() == 0);
    CHECK(note_count(h.kern(), "incomplete_window") == 2);
  }
  SECTION("non-finite vel_div or share -> nil, noted") {
    kernel_harness h("acb", {{"vol_window", Value(2)}});
    feed1(h, 0, scanner(0.1, 0.0, 0.001));
    auto out = feed1(h, sec, scanner(0.1, std::nan(""), 0.001));
    CHECK(out->is_nil());
    out = feed1(h, 2 * sec, scanner(INFINITY, 0.0, 0.001));
    CHECK(out->is_nil());
    CHECK(note_count(h.kern(), "malformed_input") == 2);
  }
}

TEST_CASE("acb: params", "[kinds][acb][params]") {
  register_regime_kinds();
  const auto norm = find_kind("acb")->normalize({});
  CHECK(norm.at("vol_window") == Value(20));
  CHECK(norm.at("vol_threshold") == Value(0.001));
  CHECK(norm.at("short") == Value(50));
  CHECK(find_kind("acb")->min_period(norm) == 20);
  CHECK(param_error_key("acb", {{"vol_windw", Value(3)}}) == "vol_windw");
  CHECK(param_error_key("acb", {{"vol_window", Value(2.5)}}) == "vol_window");
  CHECK(param_error_key("acb", {{"vol_window", Value(1)}}) == "vol_window");
  CHECK(param_error_key("acb", {{"vol_threshold", Value(-0.1)}}) == "vol_threshold");
  CHECK(param_error_key("acb", {{"vol_threshold", Value("x")}}) == "vol_threshold");
  CHECK(param_error_key("acb", {{"short", Value(0)}}) == "short");
}
