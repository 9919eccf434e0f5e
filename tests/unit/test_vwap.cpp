// vwap: pandas rolling sums, zero and missing volume, bad inputs, slots paired by bucket.
#include <catch2/catch.hpp>

#include <optional>

#include "actors/vwap/vwap.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

TEST_CASE("vwap matches pandas rolling sums", "[kinds]") {
  register_market_kinds();
  auto ref = load_reference();
  kernel_harness h("vwap", {{"window", Value(ref["params"]["vwap_window"].get<int>())}});
  for (std::size_t t = 0; t < ref["scans"].size(); ++t) {
    auto out = h.feed(static_cast<std::int64_t>(t) * sec,
                      {to_value(ref["scans"][t]), to_value(ref["volumes"][t])});
    check_row(out, ref["vwap"][t], t, "vwap");
  }
  CHECK(h.kern().notes().at("zero_volume") > 0);
  CHECK(h.kern().notes().at("incomplete_window") > 0);
}

TEST_CASE("vwap: known value, zero volume, missing volume, bad inputs", "[kinds]") {
  register_market_kinds();
  kernel_harness h("vwap", {{"window", Value(3)}});
  h.feed(0, {scan(0, {"A", "Z", "N"}, {1, 10, 5}), vec({"A", "Z", "N"}, {1, 0, 1})});
  h.feed(sec, {scan(1, {"A", "Z", "N"}, {2, 11, 5}), vec({"A", "Z"}, {1, 0})});
  auto out = values_of(
      h.feed(2 * sec, {scan(2, {"A", "Z", "N"}, {3, 12, 5}), vec({"A", "Z", "N"}, {2, 0, 1})}));
  CHECK(out.size() == 1);
  CHECK(out.at("A") == Approx(9.0 / 4.0).epsilon(1e-12));  // (1 + 2 + 6) / 4
  CHECK(h.kern().notes().at("zero_volume") == 1);          // Z: sum q = 0
  CHECK(h.kern().notes().at("incomplete_window") == 1);    // N: no volume at bucket 1

  kernel_harness bad("vwap", {{"window", Value(1)}});
  out =
      values_of(bad.feed(0, {vec({"A", "B", "C"}, {-1, 2, 3}), vec({"A", "B", "C"}, {1, -1, 2})}));
  CHECK(out.size() == 1);
  CHECK(out.at("C") == 3.0);
  CHECK(bad.kern().notes().at("non_positive_price") == 1);
  CHECK(bad.kern().notes().at("negative_volume") == 1);
}

TEST_CASE("vwap pairs slots by bucket when a port skipped one", "[kinds]") {
  register_market_kinds();
  kernel_harness h("vwap", {{"window", Value(2)}});
  h.feed(0, {vec({"A"}, {1}), vec({"A"}, {1})});
  h.feed(sec, {vec({"A"}, {2}), std::nullopt});  // skipped: the price ring still records it
  // Window = price slots at 1 s and 2 s; the 1 s slot has no volume: incomplete.
  auto out = h.feed(2 * sec, {vec({"A"}, {3}), vec({"A"}, {1})});
  REQUIRE(out);
  CHECK(values_of(out).empty());
  out = h.feed(3 * sec, {vec({"A"}, {5}), vec({"A"}, {3})});
  CHECK(values_of(out).at("A") == Approx((3.0 + 15.0) / 4.0).epsilon(1e-12));
}
