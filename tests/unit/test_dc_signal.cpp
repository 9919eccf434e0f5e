// dc_signal (fed by asset_selector) against the reference, short history, exact thresholds.
#include <catch2/catch.hpp>

#include <cmath>

#include "actors/asset_selector/asset_selector.hpp"
#include "actors/dc_signal/dc_signal.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("asset_selector and dc_signal match the reference", "[kinds]") {
  register_market_kinds();
  auto ref = load_reference();
  const auto& prm = ref["params"];
  kernel_harness sel("asset_selector", {{"window", Value(prm["sel_window"].get<int>())}});
  kernel_harness dc("dc_signal", {{"lookback", Value(prm["lookback"].get<int>())},
                                  {"confirm_bps", Value(prm["confirm_bps"].get<double>())},
                                  {"contradict_bps", Value(prm["contradict_bps"].get<double>())}});
  CHECK(sel.period() == 21);
  CHECK(dc.period() == 1);
  std::size_t compared = 0;
  for (std::size_t t = 0; t < ref["scans"].size(); ++t) {
    INFO("bucket " << t);
    const std::int64_t b = static_cast<std::int64_t>(t) * sec;
    const Value s = to_value(ref["scans"][t]);
    auto picked = sel.feed(b, s);
    const json& want = ref["asset_selector"][t];
    if (want.is_null()) {
      CHECK_FALSE(picked);
    } else if (want.is_string()) {
      REQUIRE(picked);
      CHECK(picked->is_nil());
    } else {
      REQUIRE(picked);
      CHECK(str(*picked, "asset") == want["asset"].get<std::string>());
      CHECK(close(num(*picked, "z"), want["z"].get<double>()));
      CHECK(str(*picked, "direction") == want["direction"].get<std::string>());
    }
    auto got = dc.feed(b, {picked, s});
    const json& w = ref["dc_signal"][t];
    if (w.is_null()) {
      CHECK_FALSE(got);
      continue;
    }
    REQUIRE(got);
    CHECK(to_value(w["asset"]) == *got->find("asset"));
    CHECK(to_value(w["direction"]) == *got->find("direction"));
    CHECK(str(*got, "status") == w["status"].get<std::string>());
    if (w["change_bps"].is_null()) {
      CHECK(got->find("change_bps")->is_nil());
    } else {
      CHECK(close(num(*got, "change_bps"), w["change_bps"].get<double>()));
      ++compared;
    }
  }
  CHECK(compared > 40);
}

TEST_CASE("dc_signal: short history, nil selection, missing price", "[kinds]") {
  register_market_kinds();
  kernel_harness h("dc_signal", {{"lookback", Value(2)}});
  auto out = h.feed(0, {selection("A", "SHORT"), scan(0, {"A"}, {100})});
  REQUIRE(out);
  CHECK(str(*out, "status") == "INSUFFICIENT");
  CHECK(str(*out, "asset") == "A");
  CHECK(out->find("change_bps")->is_nil());
  out = h.feed(sec, {Value{}, scan(1, {"A"}, {100})});
  CHECK(out->find("asset")->is_nil());
  CHECK(out->find("direction")->is_nil());
  CHECK(str(*out, "status") == "INSUFFICIENT");
  out = h.feed(2 * sec, {selection("A", "SHORT"), scan(2, {"A"}, {99})});
  CHECK(str(*out, "status") == "CONFIRM");  // the nil bucket's scan still counts as history
  CHECK(num(*out, "change_bps") == Approx(-100.0).epsilon(1e-9));
  out = h.feed(3 * sec, {selection("B", "LONG"), scan(3, {"A", "B"}, {99, 1})});
  CHECK(str(*out, "status") == "INSUFFICIENT");
  CHECK(h.kern().notes().at("missing_price") == 1);
  CHECK(h.kern().notes().at("no_selection") == 1);
  CHECK(h.kern().notes().at("short_history") == 1);
}

TEST_CASE("dc_signal: both directions exactly at the thresholds", "[kinds]") {
  register_market_kinds();
  // p0 = 1 and p_t = 1 ± 2^-k make (p_t / p0 - 1) * 1e4 exact, so the comparisons are tested
  // at equality: 2^-12 * 1e4 = 2.44140625 bps, 2^-11 * 1e4 = 4.8828125 bps.
  const double confirm = 2.44140625, contradict = 4.8828125;
  const double up_c = 1 + std::ldexp(1.0, -12), up_x = 1 + std::ldexp(1.0, -11);
  const double dn_c = 1 - std::ldexp(1.0, -12), dn_x = 1 - std::ldexp(1.0, -11);
  struct row {
    const char* direction;
    double p1;
    const char* status;
  };
  const row rows[] = {
      {"SHORT", dn_c, "CONFIRM"},         {"SHORT", std::nextafter(dn_c, 2.0), "NEUTRAL"},
      {"SHORT", up_x, "SKIP_CONTRADICT"}, {"SHORT", std::nextafter(up_x, 0.0), "NEUTRAL"},
      {"LONG", up_c, "CONFIRM"},          {"LONG", std::nextafter(up_c, 0.0), "NEUTRAL"},
      {"LONG", dn_x, "SKIP_CONTRADICT"},  {"LONG", std::nextafter(dn_x, 2.0), "NEUTRAL"},
      {"LONG", 1.0, "NEUTRAL"},
  };
  for (const auto& r : rows) {
    INFO(r.direction << " p1 " << r.p1);
    kernel_harness h("dc_signal", {{"lookback", Value(1)},
                                   {"confirm_bps", Value(confirm)},
                                   {"contradict_bps", Value(contradict)}});
    h.feed(0, {selection("A", r.direction), scan(0, {"A"}, {1.0})});
    auto out = h.feed(sec, {selection("A", r.direction), scan(1, {"A"}, {r.p1})});
    REQUIRE(out);
    CHECK(str(*out, "status") == r.status);
    CHECK(str(*out, "direction") == r.direction);
  }
}
