// rolling_vol, vwap, ob_features, asset_selector and dc_signal against values computed
// independently with numpy/pandas (tests/reference/market_kinds.py → market_kinds.json), their
// edge cases, checkpoint round trips and param validation. Kernels run on a real window cache
// (kernel_harness). A "[.bench]" case (hidden by default) measures each kernel per bucket.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "actors/asset_selector/asset_selector.hpp"
#include "actors/core/asset_values.hpp"
#include "actors/dc_signal/dc_signal.hpp"
#include "actors/ob_features/ob_features.hpp"
#include "actors/rolling_vol/rolling_vol.hpp"
#include "actors/vwap/vwap.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kernel_harness.hpp"

#ifndef SHOAL_SOURCE_DIR
#define SHOAL_SOURCE_DIR "."  // standalone builds run from the repository root
#endif

using namespace shoal;
using shoal::testing::asset_values;
using shoal::testing::kernel_harness;
using shoal::testing::scan;
using json = nlohmann::json;

namespace {

constexpr std::int64_t sec = 1'000'000'000;  // the harness' default interval

// The lead adds these to the built-ins; until then tests register them (idempotent).
void register_market_kinds() {
  register_kind(rolling_vol_kind());
  register_kind(vwap_kind());
  register_kind(ob_features_kind());
  register_kind(asset_selector_kind());
  register_kind(dc_signal_kind());
}

json load_reference() {
  std::ifstream in(std::string(SHOAL_SOURCE_DIR) + "/tests/reference/market_kinds.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// JSON → Value; arrays of numbers become f64 vectors, as producers send them.
Value to_value(const json& j) {
  if (j.is_null()) return Value{};
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<std::int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_array()) {
    if (std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_number(); })) {
      f64_vector xs;
      for (const auto& x : j) xs.push_back(x.get<double>());
      return Value(std::move(xs));
    }
    value_list xs;
    for (const auto& x : j) xs.push_back(to_value(x));
    return Value(std::move(xs));
  }
  value_map m;
  for (const auto& [k, v] : j.items()) m.emplace(k, to_value(v));
  return Value(std::move(m));
}

bool close(double got, double want) {
  return std::abs(got - want) <= std::max(1e-9 * std::abs(want), 1e-12);
}

// An {assets, values} output (or no output) against a JSON row {asset: value}.
void check_row(const std::optional<Value>& got, const json& want, std::size_t t, const char* what) {
  INFO(what << " bucket " << t);
  asset_map g;
  if (got) REQUIRE(read_asset_values(*got, g));
  REQUIRE(g.size() == want.size());
  for (const auto& [asset, w] : want.items()) {
    INFO("asset " << asset << " got " << g[asset] << " want " << w.get<double>());
    REQUIRE(g.count(asset));
    CHECK(close(g.at(asset), w.get<double>()));
  }
}

asset_map values_of(const std::optional<Value>& v) {
  REQUIRE(v);
  asset_map m;
  REQUIRE(read_asset_values(*v, m));
  return m;
}

Value vec(const std::vector<std::string>& assets, const std::vector<double>& xs) {
  return asset_values(assets, xs);
}

Value book(const std::string& asset, std::vector<double> bid_qty, std::vector<double> ask_qty) {
  f64_vector bid_px, ask_px;
  for (std::size_t i = 0; i < bid_qty.size(); ++i) bid_px.push_back(100.0 - 0.01 * (i + 1));
  for (std::size_t i = 0; i < ask_qty.size(); ++i) ask_px.push_back(100.0 + 0.01 * (i + 1));
  return Value(value_map{{"asset", Value(asset)},
                         {"bid_px", Value(bid_px)},
                         {"bid_qty", Value(f64_vector(bid_qty))},
                         {"ask_px", Value(ask_px)},
                         {"ask_qty", Value(f64_vector(ask_qty))}});
}

Value books(std::vector<Value> bs) {
  value_map m;
  for (auto& b : bs) m.emplace(b.find("asset")->as_string(), std::move(b));
  return Value(std::move(m));
}

Value selection(const std::string& asset, const std::string& direction) {
  return Value(value_map{{"asset", Value(asset)},
                         {"z", Value(direction == "SHORT" ? 2.0 : -2.0)},
                         {"direction", Value(direction)}});
}

double num(const Value& out, const char* key) { return out.find(key)->as_number(); }
std::string str(const Value& out, const char* key) { return out.find(key)->as_string(); }

void expect_param_error(const char* kind, value_map params, const std::string& key) {
  INFO(kind << " expecting an error on " << key);
  const kind_info* k = find_kind(kind);
  REQUIRE(k);
  try {
    k->normalize(params);
    FAIL("no param_error");
  } catch (const param_error& e) {
    CHECK(e.key() == key);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Against the pandas reference

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

TEST_CASE("ob_features matches the reference", "[kinds]") {
  register_market_kinds();
  auto ref = load_reference();
  const auto& prm = ref["params"];
  kernel_harness h("ob_features", {{"levels", Value(prm["levels"].get<int>())},
                                   {"max_age", Value(prm["max_age"].get<std::string>())},
                                   {"eps", Value(prm["eps"].get<double>())}});
  for (std::size_t t = 0; t < ref["books"].size(); ++t) {
    INFO("bucket " << t);
    auto out = h.feed(static_cast<std::int64_t>(t) * sec, to_value(ref["books"][t]));
    REQUIRE(out);
    const json& w = ref["ob_features"][t];
    CHECK(close(num(*out, "median_imbalance"), w["median_imbalance"].get<double>()));
    CHECK(close(num(*out, "agreement_pct"), w["agreement_pct"].get<double>()));
    CHECK(out->find("n_assets")->is_int());
    CHECK(out->find("n_assets")->as_int() == w["n_assets"].get<std::int64_t>());
    check_row(*out->find("imbalance"), w["imbalance"], t, "imbalance");
  }
  CHECK(h.kern().notes().at("stale_book") >= 1);
  CHECK(h.kern().notes().at("empty_book") >= 1);
}

// ---------------------------------------------------------------------------------------------
// Edge cases

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

TEST_CASE("ob_features: empty books, stale books, levels, median and agreement", "[kinds]") {
  register_market_kinds();
  kernel_harness h("ob_features", {{"levels", Value(2)}, {"max_age", Value("3s")}});
  // imb A = (3 - 1) / 4 = 0.5 (third level ignored), B = -0.2, C = 0.005 (< eps), E empty.
  auto out = h.feed(0, books({book("A", {1, 2, 100}, {1}), book("B", {2, 2}, {3, 2}),
                              book("C", {100.5}, {99.5}), book("E", {}, {})}));
  REQUIRE(out);
  CHECK(out->find("n_assets")->as_int() == 3);
  CHECK(num(*out, "median_imbalance") == Approx(0.005).epsilon(1e-12));
  // Agreeing: A (positive, >= eps). C is positive but below eps; B disagrees.
  CHECK(num(*out, "agreement_pct") == Approx(100.0 / 3.0).epsilon(1e-12));
  CHECK(h.kern().notes().at("empty_book") == 1);

  // Only B updates; A and C are 1 s old and still count. Even count after D joins: mean of
  // the two middle values.
  out = h.feed(sec, books({book("B", {1}, {3}), book("D", {1}, {1})}));
  CHECK(out->find("n_assets")->as_int() == 4);  // A 0.5, B -0.5, C 0.005, D 0
  CHECK(num(*out, "median_imbalance") == Approx((0.0 + 0.005) / 2).epsilon(1e-12));

  // At 3 s A and C are exactly max_age old: still in. At 4 s they are dropped.
  out = h.feed(3 * sec, books({}));
  CHECK(out->find("n_assets")->as_int() == 4);
  out = h.feed(4 * sec, books({book("B", {1}, {4})}));
  auto imb = values_of(*out->find("imbalance"));
  CHECK(imb.size() == 2);  // B (fresh) and D (3 s old)
  CHECK(imb.at("B") == Approx(-0.6).epsilon(1e-12));
  CHECK(h.kern().notes().at("stale_book") == 2);
  // An empty book replaces the asset's last imbalance rather than letting it linger.
  out = h.feed(5 * sec, books({book("D", {0, 0}, {0})}));
  CHECK(out->find("n_assets")->as_int() == 1);
  CHECK(num(*out, "agreement_pct") == 100.0);

  // Nothing fresh: zeros, not NaN.
  out = h.feed(100 * sec, books({}));
  CHECK(out->find("n_assets")->as_int() == 0);
  CHECK(num(*out, "median_imbalance") == 0.0);
  CHECK(num(*out, "agreement_pct") == 0.0);
  CHECK(h.kern().notes().at("no_fresh_assets") == 1);
}

TEST_CASE("ob_features: median 0 gives agreement 0, and a single unkeyed book", "[kinds]") {
  register_market_kinds();
  kernel_harness h("ob_features");
  auto out = h.feed(0, books({book("A", {1}, {3}), book("B", {1}, {1}), book("C", {3}, {1})}));
  CHECK(num(*out, "median_imbalance") == 0.0);
  CHECK(num(*out, "agreement_pct") == 0.0);
  out = h.feed(sec, book("X", {3}, {1}));  // one book, not keyed
  CHECK(values_of(*out->find("imbalance")).at("X") == 0.5);
  CHECK(out->find("n_assets")->as_int() == 4);
  // An invalid book is ignored (noted); the asset keeps its previous snapshot.
  value_map broken = book("A", {1}, {1}).as_map();
  broken["bid_qty"] = Value(f64_vector{-1});
  out = h.feed(2 * sec, Value(value_map{{"A", Value(broken)}}));
  CHECK(values_of(*out->find("imbalance")).at("A") == -0.5);
  CHECK(h.kern().notes().at("invalid_book") == 1);
}

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

// ---------------------------------------------------------------------------------------------
// Checkpoints: save_state → restore_state mid-stream continues exactly like an uninterrupted run

TEST_CASE("ob_features and dc_signal resume identically from a checkpoint", "[kinds]") {
  register_market_kinds();
  auto ref = load_reference();
  const std::size_t n = ref["scans"].size();
  for (std::size_t cut : {std::size_t{3}, std::size_t{18}, std::size_t{24}, std::size_t{50}}) {
    INFO("cut at " << cut);
    value_map ob_params{{"max_age", Value("5s")}, {"eps", Value(0.05)}};
    kernel_harness ob_full("ob_features", ob_params), ob_first("ob_features", ob_params);
    kernel_harness sel("asset_selector");
    kernel_harness dc_full("dc_signal"), dc_first("dc_signal");
    std::optional<kernel_harness> ob_resumed, dc_resumed;
    for (std::size_t t = 0; t < n; ++t) {
      const std::int64_t b = static_cast<std::int64_t>(t) * sec;
      const Value bk = to_value(ref["books"][t]);
      const Value s = to_value(ref["scans"][t]);
      auto picked = sel.feed(b, s);
      auto ob_want = ob_full.feed(b, bk);
      auto dc_want = dc_full.feed(b, {picked, s});
      if (t < cut) {
        ob_first.feed(b, bk);
        dc_first.feed(b, {picked, s});
        continue;
      }
      if (t == cut) {
        // Through MessagePack, as a checkpoint is stored; both windows have period 1, so a
        // fresh window plus the kernel state is the whole node.
        ob_resumed.emplace("ob_features", ob_params);
        dc_resumed.emplace("dc_signal");
        const Value ob_state = from_msgpack(to_msgpack(ob_first.kern().save_state()));
        const Value dc_state = from_msgpack(to_msgpack(dc_first.kern().save_state()));
        ob_resumed->kern().restore_state(ob_state);
        dc_resumed->kern().restore_state(dc_state);
        CHECK(to_msgpack(ob_resumed->kern().save_state()) ==
              to_msgpack(ob_first.kern().save_state()));
        CHECK(to_msgpack(dc_resumed->kern().save_state()) ==
              to_msgpack(dc_first.kern().save_state()));
      }
      INFO("bucket " << t);
      auto ob_got = ob_resumed->feed(b, bk);
      auto dc_got = dc_resumed->feed(b, {picked, s});
      REQUIRE(ob_got.has_value() == ob_want.has_value());
      REQUIRE(dc_got.has_value() == dc_want.has_value());
      if (ob_got) CHECK(to_msgpack(*ob_got) == to_msgpack(*ob_want));
      if (dc_got) CHECK(to_msgpack(*dc_got) == to_msgpack(*dc_want));
    }
  }
}

TEST_CASE("restore_state rejects malformed state and accepts nil", "[kinds]") {
  register_market_kinds();
  kernel_harness ob("ob_features"), dc("dc_signal");
  CHECK_THROWS_AS(ob.kern().restore_state(Value(value_map{{"assets", Value(1)}})),
                  std::invalid_argument);
  CHECK_THROWS_AS(dc.kern().restore_state(Value(3)), std::invalid_argument);
  ob.kern().restore_state(Value{});
  dc.kern().restore_state(Value{});
  CHECK(ob.kern().save_state() == ob_features_kernel(5, sec, 0.01).save_state());
  CHECK(dc.kern().save_state().as_list().empty());
}

// ---------------------------------------------------------------------------------------------
// Params

TEST_CASE("market kinds validate and normalize their params", "[kinds]") {
  register_market_kinds();
  CHECK(find_kind("rolling_vol")->normalize({}).at("window").as_int() == 20);
  CHECK(find_kind("vwap")->ports == std::vector<std::string>{"price", "volume"});
  CHECK(find_kind("dc_signal")->ports == std::vector<std::string>{"select", "scan"});
  auto ob = find_kind("ob_features")->normalize({{"max_age", Value("1m")}});
  CHECK(ob.at("max_age").as_int() == 60 * sec);
  CHECK(ob.at("levels").as_int() == 5);
  CHECK(ob.at("eps").as_double() == 0.01);
  CHECK(find_kind("ob_features")->normalize({}) == find_kind("ob_features")->normalize(ob));
  auto dc = find_kind("dc_signal")->normalize({{"confirm_bps", Value(3)}});
  CHECK(dc.at("confirm_bps").as_double() == 3.0);
  CHECK(find_kind("asset_selector")->min_period(find_kind("asset_selector")->normalize({})) == 21);

  expect_param_error("rolling_vol", {{"windw", Value(5)}}, "windw");
  expect_param_error("rolling_vol", {{"window", Value(1)}}, "window");
  expect_param_error("rolling_vol", {{"window", Value(2.5)}}, "window");
  expect_param_error("vwap", {{"window", Value(0)}}, "window");
  expect_param_error("vwap", {{"window", Value("5")}}, "window");
  expect_param_error("ob_features", {{"levels", Value(0)}}, "levels");
  expect_param_error("ob_features", {{"max_age", Value("60 parsecs")}}, "max_age");
  expect_param_error("ob_features", {{"max_age", Value(true)}}, "max_age");
  expect_param_error("ob_features", {{"eps", Value(-0.1)}}, "eps");
  expect_param_error("ob_features", {{"eps", Value("x")}}, "eps");
  expect_param_error("ob_features", {{"depth", Value(5)}}, "depth");
  expect_param_error("asset_selector", {{"window", Value(1)}}, "window");
  expect_param_error("dc_signal", {{"lookback", Value(0)}}, "lookback");
  expect_param_error("dc_signal", {{"confirm_bps", Value(-1)}}, "confirm_bps");
  expect_param_error("dc_signal", {{"contradict_bps", Value(NAN)}}, "contradict_bps");
  expect_param_error("dc_signal", {{"lookback", Value(7)}, {"bps", Value(1)}}, "bps");
}

// ---------------------------------------------------------------------------------------------
// Cost per bucket at 48 assets (hidden: run with "[.bench]")

namespace {

template <class Next>
double us_per_bucket(kernel& k, std::vector<slot_ring>& rings, Next next) {
  std::vector<const slot_ring*> ports;
  for (auto& r : rings) ports.push_back(&r);
  const int warm = 200, runs = 5000;
  double sink = 0;
  std::chrono::steady_clock::time_point start;
  for (int i = 0; i < warm + runs; ++i) {
    if (i == warm) start = std::chrono::steady_clock::now();
    const std::int64_t b = static_cast<std::int64_t>(i + 1000) * sec;
    next(b);
    Value out = k.compute(kernel_input{b, ports});
    sink += out.is_nil() ? 0.0 : 1.0;
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  CHECK(sink > 0);
  return us / runs;
}

}  // namespace

TEST_CASE("market kernels: cost per bucket at 48 assets", "[.bench]") {
  register_market_kinds();
  // 64 distinct payloads: more than any window (so every bucket parses a new slot) yet few
  // enough to stay in cache, like a just-decoded live payload.
  const std::size_t n_assets = 48, n_values = 64;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n_assets; ++i) names.push_back("ASSET" + std::to_string(100 + i));
  std::vector<value_ptr> scans, vols, obs;
  std::vector<double> px(n_assets, 100.0);
  std::uint64_t x = 88172645463325252ull;
  auto rnd = [&] {  // xorshift64: cheap deterministic noise
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<double>(x >> 11) / 9007199254740992.0;
  };
  for (std::size_t i = 0; i < n_values; ++i) {
    std::vector<double> q(n_assets);
    value_map bk;
    for (std::size_t a = 0; a < n_assets; ++a) {
      px[a] *= 1 + 0.002 * (rnd() - 0.5);
      q[a] = 1000 * rnd();
      bk.emplace(names[a], book(names[a], {rnd(), rnd(), rnd(), rnd(), rnd()},
                                {rnd(), rnd(), rnd(), rnd(), rnd()}));
    }
    scans.push_back(make_value(scan(static_cast<std::int64_t>(i), names, px)));
    vols.push_back(make_value(vec(names, q)));
    obs.push_back(make_value(Value(std::move(bk))));
  }
  std::size_t i = 0;
  auto report = [](const char* kind, double us) {
    std::printf("%-15s %7.2f us/bucket (48 assets)\n", kind, us);
    CHECK(us > 0);
  };
  const kernel_context ctx{std::string(64, 'a'), sec, 1};
  {
    std::vector<slot_ring> rings{slot_ring(20)};
    rolling_vol_kernel k(20);
    report("rolling_vol", us_per_bucket(k, rings, [&](std::int64_t b) {
             rings[0].push({b, scans[i++ % n_values]});
           }));
  }
  {
    std::vector<slot_ring> rings{slot_ring(20), slot_ring(20)};
    vwap_kernel k(20);
    report("vwap", us_per_bucket(k, rings, [&](std::int64_t b) {
             rings[0].push({b, scans[i % n_values]});
             rings[1].push({b, vols[i++ % n_values]});
           }));
  }
  {
    std::vector<slot_ring> rings{slot_ring(1)};
    ob_features_kernel k(5, 60 * sec, 0.01);
    report("ob_features", us_per_bucket(k, rings, [&](std::int64_t b) {
             rings[0].push({b, obs[i++ % n_values]});
           }));
  }
  {
    std::vector<slot_ring> rings{slot_ring(21)};
    asset_selector_kernel k(20);
    report("asset_selector", us_per_bucket(k, rings, [&](std::int64_t b) {
             rings[0].push({b, scans[i++ % n_values]});
           }));
  }
  {
    std::vector<slot_ring> rings{slot_ring(1), slot_ring(1)};
    dc_signal_kernel k(7, 2, 5);
    const value_ptr sel = make_value(selection(names[47], "SHORT"));
    report("dc_signal", us_per_bucket(k, rings, [&](std::int64_t b) {
             rings[0].push({b, sel});
             rings[1].push({b, scans[i++ % n_values]});
           }));
  }
  (void)ctx;
}
