// asset_selector: ties, flat series, nothing eligible (reference values: test_dc_signal.cpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "actors/asset_selector/asset_selector.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("asset_selector: ties, flat series, nothing eligible", "[kinds]") {
  register_market_kinds();
  kernel_harness h("asset_selector", {{"window", Value(2)}});
  // B and A move identically (listed B first): equal |z|, the smaller name wins.
  h.feed(0, scan(0, {"B", "A", "FLAT"}, {100, 100, 7}));
  h.feed(sec, scan(1, {"B", "A", "FLAT"}, {101, 101, 7}));
  auto out = h.feed(2 * sec, scan(2, {"B", "A", "FLAT"}, {100, 100, 7}));
  REQUIRE(out);
  CHECK(str(*out, "asset") == "A");
  CHECK(num(*out, "z") == Approx(-1.0 / std::sqrt(2.0)).epsilon(1e-9));
  CHECK(str(*out, "direction") == "LONG");

  kernel_harness flat("asset_selector", {{"window", Value(2)}});
  flat.feed(0, scan(0, {"F"}, {5}));
  flat.feed(sec, scan(1, {"F"}, {5}));
  out = flat.feed(2 * sec, scan(2, {"F", "NEW"}, {5, 1}));
  CHECK(str(*out, "asset") == "F");
  CHECK(num(*out, "z") == 0.0);
  CHECK(str(*out, "direction") == "LONG");
  // Only NEW and a negative price: nothing has window + 1 prices.
  out = flat.feed(3 * sec, scan(3, {"F", "NEW"}, {-5, 2}));
  REQUIRE(out);
  CHECK(out->is_nil());
  CHECK(flat.kern().notes().at("no_eligible_asset") == 1);
}
