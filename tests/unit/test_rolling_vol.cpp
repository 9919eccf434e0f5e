// rolling_vol: pandas rolling std on prices and on log returns, edge cases, shared payloads.
#include <catch2/catch.hpp>

#include <cmath>

#include "actors/rolling_vol/rolling_vol.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("rolling_vol matches pandas rolling std on prices and on log returns", "[kinds]") {
  register_market_kinds();
  auto ref = load_reference();
  const auto& prm = ref["params"];
  kernel_harness on_prices("rolling_vol", {{"window", Value(prm["vol_window"].get<int>())}});
  kernel_harness returns("log_return");
  kernel_harness on_returns("rolling_vol", {{"window", Value(prm["ret_vol_window"].get<int>())}});
  CHECK(on_prices.period() == 10);
  const auto& scans = ref["scans"];
  for (std::size_t t = 0; t < scans.size(); ++t) {
    const std::int64_t b = static_cast<std::int64_t>(t) * sec;
    check_row(on_prices.feed(b, to_value(scans[t])), ref["rolling_vol_prices"][t], t, "prices");
    auto r = returns.feed(b, to_value(scans[t]));
    check_row(r, ref["log_return"][t], t, "log_return");
    std::optional<Value> v;
    if (r) v = on_returns.feed(b, *r);
    check_row(v, ref["rolling_vol_returns"][t], t, "returns");
  }
}

TEST_CASE("rolling_vol: flat series, single asset, dropped and late assets", "[kinds]") {
  register_market_kinds();
  kernel_harness h("rolling_vol", {{"window", Value(3)}});
  CHECK_FALSE(h.feed(0, scan(0, {"FLAT", "X"}, {0.1, 1})));
  CHECK_FALSE(h.feed(sec, scan(1, {"FLAT", "X", "Y"}, {0.1, 2, 5})));
  auto out = values_of(h.feed(2 * sec, scan(2, {"FLAT", "X", "Y"}, {0.1, 3, 6})));
  CHECK(out.at("FLAT") == 0.0);  // exactly, however 0.3 / 3 rounds
  CHECK(out.at("X") == Approx(1.0).epsilon(1e-12));
  CHECK_FALSE(out.count("Y"));  // appeared one bucket late: incomplete window
  // A negative price in a scan and a NaN in a vector drop the asset until it leaves the window.
  out = values_of(h.feed(3 * sec, scan(3, {"FLAT", "X", "Y"}, {0.1, -4, 7})));
  CHECK_FALSE(out.count("X"));
  CHECK(out.at("Y") == Approx(1.0).epsilon(1e-12));
  out = values_of(h.feed(4 * sec, vec({"FLAT", "X", "Y"}, {0.1, 5, NAN})));
  CHECK(out.size() == 1);
  CHECK(h.kern().notes().at("incomplete_window") == 2);  // Y at 2 s, X at 4 s

  kernel_harness single("rolling_vol", {{"window", Value(2)}});
  single.feed(0, vec({"A"}, {1.0}));
  CHECK(values_of(single.feed(sec, vec({"A"}, {3.0}))).at("A") ==
        Approx(std::sqrt(2.0)).epsilon(1e-12));
}

TEST_CASE("rolling_vol: shared payloads (ffill), unsorted and repeated names", "[kinds]") {
  register_market_kinds();
  // The same payload in consecutive slots, as ffill leaves it, and names out of order with a
  // repeat (the first usable entry wins, as in read_asset_values).
  const value_ptr a = make_value(vec({"Z", "A", "Z"}, {1, 10, 99}));
  const value_ptr b = make_value(vec({"A", "Z"}, {13, 4}));
  slot_ring ring(3);
  rolling_vol_kernel k(3);
  ring.push({0, a});
  ring.push({sec, a});
  ring.push({2 * sec, b});
  auto out = values_of(k.compute(kernel_input{2 * sec, {&ring}}));
  CHECK(out.at("A") == Approx(std::sqrt(3.0)).epsilon(1e-12));  // 10, 10, 13
  CHECK(out.at("Z") == Approx(std::sqrt(3.0)).epsilon(1e-12));  // 1, 1, 4
  ring.push({3 * sec, b});  // the cached views shift by one slot
  out = values_of(k.compute(kernel_input{3 * sec, {&ring}}));
  CHECK(out.at("A") == Approx(std::sqrt(3.0)).epsilon(1e-12));  // 10, 13, 13
  CHECK(k.compute(kernel_input{3 * sec, {&ring}}) == k.compute(kernel_input{3 * sec, {&ring}}));
}
