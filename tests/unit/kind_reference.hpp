#pragma once
// kind_reference: what the per-kind kernel tests (test_<kind>.cpp, bench_kind_costs.cpp) share,
// kept in one place so that one file per kind does not mean one copy per kind: registering the
// kinds, loading the independently computed references (tests/reference/*.json) and comparing
// against them, building the payloads the kinds read, and checking param errors.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/builtin_kinds.hpp"
#include "actors/core/asset_values.hpp"
#include "actors/esof/esof.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kernel_harness.hpp"

#ifndef SHOAL_SOURCE_DIR
#define SHOAL_SOURCE_DIR "."  // built outside CMake: run from the repository root
#endif

namespace shoal::testing {

using json = nlohmann::json;

inline constexpr std::int64_t sec = 1'000'000'000;  // the harness' default interval

// ---------------------------------------------------------------------------------------------
// Registration. These kinds are in builtin_kinds() now (the tests registered them before they
// were); registering them again is idempotent. They come from builtin_kinds() rather than each
// kind's factory so that this header needs no kind's own header: sizing.hpp declares a
// `selection` struct that would make the `selection` builder below ambiguous.

inline void register_builtin_kinds(std::initializer_list<std::string_view> names) {
  for (auto& k : builtin_kinds())
    if (std::find(names.begin(), names.end(), k.name) != names.end()) register_kind(std::move(k));
}

inline void register_market_kinds() {
  register_builtin_kinds({"rolling_vol", "vwap", "ob_features", "asset_selector", "dc_signal"});
}

inline void register_regime_kinds() {
  register_builtin_kinds({"acb", "mc_forewarner", "esof", "posture", "sizing"});
}

// ---------------------------------------------------------------------------------------------
// References and comparisons

// tests/reference/<name>, as written by the Python script of the same stem.
inline json load_reference(const std::string& name) {
  std::ifstream in(std::string(SHOAL_SOURCE_DIR) + "/tests/reference/" + name);
  REQUIRE(in.good());
  return json::parse(in);
}

// The market kinds' reference (tests/reference/market_kinds.py).
inline json load_reference() { return load_reference("market_kinds.json"); }

// JSON → Value; arrays of numbers become f64 vectors, as producers send them.
inline Value to_value(const json& j) {
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

// got equals want to 1e-9 relative (1e-12 absolute near 0).
inline bool close(double got, double want) {
  return std::abs(got - want) <= std::max(1e-9 * std::abs(want), 1e-12);
}

// An {assets, values} output (or no output) against a JSON row {asset: value}, by close.
inline void check_row(const std::optional<Value>& got, const json& want, std::size_t t,
                      const char* label) {
  INFO(label << " bucket " << t);
  asset_map g;
  if (got) REQUIRE(read_asset_values(*got, g));
  REQUIRE(g.size() == want.size());
  for (const auto& [asset, w] : want.items()) {
    INFO("asset " << asset << " got " << g[asset] << " want " << w.get<double>());
    REQUIRE(g.count(asset));
    CHECK(close(g.at(asset), w.get<double>()));
  }
}

inline asset_map values_of(const std::optional<Value>& v) {
  REQUIRE(v);
  asset_map m;
  REQUIRE(read_asset_values(*v, m));
  return m;
}

inline double num(const Value& out, const char* key) { return out.find(key)->as_number(); }
inline std::string str(const Value& out, const char* key) { return out.find(key)->as_string(); }

// ---------------------------------------------------------------------------------------------
// Payload builders

inline Value vec(const std::vector<std::string>& assets, const std::vector<double>& xs) {
  return asset_values(assets, xs);
}

inline Value book(const std::string& asset, std::vector<double> bid_qty,
                  std::vector<double> ask_qty) {
  f64_vector bid_px, ask_px;
  for (std::size_t i = 0; i < bid_qty.size(); ++i) bid_px.push_back(100.0 - 0.01 * (i + 1));
  for (std::size_t i = 0; i < ask_qty.size(); ++i) ask_px.push_back(100.0 + 0.01 * (i + 1));
  return Value(value_map{{"asset", Value(asset)},
                         {"bid_px", Value(bid_px)},
                         {"bid_qty", Value(f64_vector(bid_qty))},
                         {"ask_px", Value(ask_px)},
                         {"ask_qty", Value(f64_vector(ask_qty))}});
}

inline Value books(std::vector<Value> bs) {
  value_map m;
  for (auto& b : bs) m.emplace(b.find("asset")->as_string(), std::move(b));
  return Value(std::move(m));
}

// An asset_selector output picking `asset` in `direction`.
inline Value selection(const std::string& asset, const std::string& direction) {
  return Value(value_map{{"asset", Value(asset)},
                         {"z", Value(direction == "SHORT" ? 2.0 : -2.0)},
                         {"direction", Value(direction)}});
}

// An eigen_scanner output with windows [50, 150] (or as given); only the fields acb and
// mc_forewarner read vary, the rest are plausible constants.
inline Value scanner(double share_short, double vel_div, double mean_return,
                     std::vector<std::int64_t> windows = {50, 150},
                     std::vector<double> shares = {}) {
  value_list w, n_assets;
  for (auto x : windows) {
    w.emplace_back(x);
    n_assets.emplace_back(10);
  }
  if (shares.empty()) shares = {share_short, 0.3};
  return Value(value_map{{"windows", Value(w)},
                         {"lambda_max", Value(f64_vector(windows.size(), 3.0))},
                         {"share", Value(f64_vector(shares))},
                         {"velocity", Value(f64_vector(windows.size(), 0.0))},
                         {"n_assets", Value(n_assets)},
                         {"vel_div", Value(vel_div)},
                         {"mean_return", Value(mean_return)},
                         {"up_ratio", Value(0.5)},
                         {"down_ratio", Value(0.4)},
                         {"regime", Value("SIDEWAYS")}});
}

// sizing's seven port values, each field varied alone by the sizing tests.
struct sizing_case {
  std::string asset = "BTC", direction = "SHORT", posture = "APEX";
  double esof = 0.5, boost = 1.2, beta = 0.85, mc_scale = 1.0;
  double median = -0.2, agreement = 80.0;
  std::string dc_status = "CONFIRM";
  bool nil_selection = false;

  std::vector<std::optional<Value>> values() const {
    Value sel = nil_selection ? Value{}
                              : Value(value_map{{"asset", Value(asset)},
                                                {"z", Value(direction == "SHORT" ? 2.5 : -2.5)},
                                                {"direction", Value(direction)}});
    Value dc(value_map{{"asset", Value(asset)},
                       {"direction", Value(direction)},
                       {"change_bps", dc_status == "INSUFFICIENT" ? Value{} : Value(-3.0)},
                       {"status", Value(dc_status)}});
    Value pos(value_map{{"posture", Value(posture)}});
    Value es(value_map{{"score", Value(esof)}, {"label", Value(esof_label(esof))}});
    Value acb(value_map{{"boost", Value(boost)}, {"beta", Value(beta)}, {"stress", Value(1)}});
    Value mc(value_map{
        {"status", Value("GREEN")}, {"scale", Value(mc_scale)}, {"p_drawdown", Value(0.05)}});
    Value ob(value_map{{"median_imbalance", Value(median)},
                       {"agreement_pct", Value(agreement)},
                       {"n_assets", Value(5)},
                       {"imbalance", asset_values({"BTC"}, {median})}});
    return {sel, dc, pos, es, acb, mc, ob};
  }
};

// A NodeID for the kinds that seed from theirs (mc_forewarner).
inline const std::string node_a =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

// ---------------------------------------------------------------------------------------------
// Params and running

inline void expect_param_error(const char* kind, value_map params, const std::string& key) {
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

// The key of the param_error normalize throws, or "" if it accepts the params.
inline std::string param_error_key(const std::string& kind, const value_map& params) {
  try {
    find_kind(kind)->normalize(params);
  } catch (const param_error& e) {
    return e.key();
  }
  return "";
}

// One value on the single port. (kernel_harness's own single-Value feed overload recurses
// into itself: `{v}` binds back to `const Value&`; reported to the harness's owner.)
inline std::optional<Value> feed1(kernel_harness& h, std::int64_t t, Value v) {
  return h.feed(t, std::vector<std::optional<Value>>{std::move(v)});
}

inline std::uint64_t note_count(kernel& k, const std::string& why) {
  auto it = k.notes().find(why);
  return it == k.notes().end() ? 0 : it->second;
}

}  // namespace shoal::testing
