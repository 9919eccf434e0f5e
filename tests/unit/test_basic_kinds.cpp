// log_return, ema and zscore against values computed independently with pandas
// (tests/reference/basic_kinds.py → basic_kinds.json), plus their edge cases.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <nlohmann/json.hpp>

#include "actors/ema/ema.hpp"
#include "actors/log_return/log_return.hpp"
#include "actors/zscore/zscore.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"
#include "messages/shared_lists.hpp"
#include "runtime/window/window_cache.hpp"

using namespace shoal;

namespace {

// A single-input node without actors: a window cache and a kernel, fed one value per bucket.
struct test_node {
  window_cache cache;
  std::unique_ptr<kernel> kern;
  std::uint64_t seq = 0;

  test_node(std::size_t period, std::unique_ptr<kernel> k)
      : cache({port_spec{"in", true, std::nullopt}}, 1, period, on_missing::skip),
        kern(std::move(k)) {}

  // Returns the output for bucket t, or nil while warming.
  std::optional<Value> feed(std::int64_t t, const Value& v) {
    cache.offer(0, ++seq, t, make_value(v));
    std::optional<Value> out;
    while (auto r = cache.next_ready())
      if (r->status == fire_status::fire)
        out = kern->compute(kernel_input{r->bucket, {&cache.ring(0)}});
    return out;
  }
};

nlohmann::json load_reference() {
  std::ifstream in(std::string(SHOAL_SOURCE_DIR) + "/tests/reference/basic_kinds.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

Value scan_value(const nlohmann::json& s) {
  value_list assets;
  f64_vector prices;
  for (const auto& a : s["assets"]) assets.emplace_back(a.get<std::string>());
  for (const auto& p : s["prices"]) prices.push_back(p.get<double>());
  return Value(
      value_map{{"assets", Value(assets)}, {"prices", Value(prices)}, {"scan_number", Value(0)}});
}

void check_row(const std::optional<Value>& got, const nlohmann::json& want, std::size_t t,
               const char* what) {
  INFO(what << " bucket " << t);
  asset_map g;
  if (got) REQUIRE(read_asset_values(*got, g));
  REQUIRE(g.size() == want.size());
  for (const auto& [asset, w] : want.items()) {
    INFO("asset " << asset);
    REQUIRE(g.count(asset));
    const double expected = w.get<double>();
    CHECK(std::abs(g.at(asset) - expected) <= 1e-9 * std::max(std::abs(expected), 1e-6));
  }
}

asset_map values_of(const Value& v) {
  asset_map m;
  REQUIRE(read_asset_values(v, m));
  return m;
}

}  // namespace

TEST_CASE("log_return, ema and zscore match pandas to 1e-9 relative", "[kinds]") {
  auto ref = load_reference();
  const auto span = ref["span"].get<std::int64_t>();
  const auto window = ref["window"].get<std::size_t>();
  test_node ret(2, std::make_unique<log_return_kernel>());
  test_node ema(1, std::make_unique<ema_kernel>(span));
  test_node z(window, std::make_unique<zscore_kernel>(window));
  const auto& scans = ref["scans"];
  for (std::size_t t = 0; t < scans.size(); ++t) {
    auto r = ret.feed(static_cast<std::int64_t>(t), scan_value(scans[t]));
    check_row(r, ref["log_return"][t], t, "log_return");
    if (!r) continue;
    check_row(ema.feed(static_cast<std::int64_t>(t), *r), ref["ema"][t], t, "ema");
    check_row(z.feed(static_cast<std::int64_t>(t), *r), ref["zscore"][t], t, "zscore");
  }
}

TEST_CASE("log_return drops non-positive prices and assets that come and go", "[kinds]") {
  test_node ret(2, std::make_unique<log_return_kernel>());
  auto scan = [](value_list assets, f64_vector prices) {
    return Value(
        value_map{{"assets", Value(std::move(assets))}, {"prices", Value(std::move(prices))}});
  };
  CHECK_FALSE(ret.feed(0, scan({"A", "B", "C"}, {100, 50, 10})));
  auto out = values_of(*ret.feed(1, scan({"A", "B", "D"}, {110, -1, 5})));
  CHECK(out.size() == 1);  // B negative, C gone, D new
  CHECK(out.at("A") == Approx(std::log(1.1)).epsilon(1e-12));
  CHECK(ret.kern->notes().at("no_previous_price") >= 1);
}

TEST_CASE("ema starts each asset at its first value and follows the recursion", "[kinds]") {
  test_node ema(1, std::make_unique<ema_kernel>(3));  // alpha = 0.5
  auto vec = [](value_list a, f64_vector v) {
    return Value(value_map{{"assets", Value(std::move(a))}, {"values", Value(std::move(v))}});
  };
  CHECK(values_of(*ema.feed(0, vec({"A"}, {2.0}))).at("A") == 2.0);
  CHECK(values_of(*ema.feed(1, vec({"A", "B"}, {4.0, 8.0}))).at("A") == 3.0);
  auto third = values_of(*ema.feed(2, vec({"A", "B"}, {5.0, 0.0})));
  CHECK(third.at("A") == 4.0);
  CHECK(third.at("B") == 4.0);
}

TEST_CASE("zscore of a flat series is 0, not a division by zero", "[kinds]") {
  test_node z(3, std::make_unique<zscore_kernel>(3));
  auto vec = [](double x) {
    return Value(
        value_map{{"assets", Value(value_list{"F", "G"})}, {"values", Value(f64_vector{x, 0.1})}});
  };
  z.feed(0, vec(1));
  z.feed(1, vec(2));
  auto out = values_of(*z.feed(2, vec(3)));
  CHECK(out.at("F") == Approx(1.0));  // (3 - 2) / 1
  CHECK(out.at("G") == 0.0);          // 0.1 three times: exactly 0, however 0.3/3 rounds
}

TEST_CASE("log_return / ema / zscore give the same bytes from shared and plain asset lists",
          "[kinds]") {
  // The kernels take shortcuts when a payload names a shared (interned) list whole: log_return
  // reuses its previous view, ema walks its states by position, zscore's window is aligned
  // by list. Fed the same scans once with shared lists and once with plain ones, every output
  // must be the same bytes — across assets that come and go, non-finite and non-positive
  // prices, 7 assets (not a multiple of zscore's blocks of 4) and an ema restored mid-run.
  std::mt19937_64 rng(5);
  const std::vector<std::string> universe = {"AA", "BB", "CC", "DD", "EE", "FF", "GG"};
  struct chain {
    test_node ret{2, std::make_unique<log_return_kernel>()};
    test_node ema{1, std::make_unique<ema_kernel>(4)};
    test_node z{5, std::make_unique<zscore_kernel>(5)};
  };
  chain shared, plain;
  std::vector<double> price(universe.size(), 100.0);
  int compared = 0;
  for (std::int64_t t = 0; t < 400; ++t) {
    // Mostly the whole universe; now and then a stretch without one asset.
    std::vector<std::string> names;
    for (std::size_t i = 0; i < universe.size(); ++i)
      if (!((t / 37) % 3 == 2 && i == static_cast<std::size_t>(t / 37) % universe.size()))
        names.push_back(universe[i]);
    f64_vector prices;
    for (std::size_t i = 0; i < universe.size(); ++i) {
      price[i] *= std::exp(0.01 * (static_cast<double>(rng() % 2001) / 1000.0 - 1.0));
      if (std::find(names.begin(), names.end(), universe[i]) != names.end())
        prices.push_back(price[i]);
    }
    if (t % 53 == 7) prices[rng() % prices.size()] = std::nan("");
    if (t % 71 == 9) prices[rng() % prices.size()] = -1.0;
    value_list plain_names(names.begin(), names.end());
    const shared_list list =
        intern_name_list(names.size(), [&](std::size_t i) { return std::string_view(names[i]); });
    const Value with_shared(value_map{{"assets", Value(list)}, {"prices", Value(prices)}});
    const Value with_plain(value_map{{"assets", Value(plain_names)}, {"prices", Value(prices)}});
    if (t == 200) {  // a restore resets ema's position cache; both get the same state
      const Value state = shared.ema.kern->save_state();
      shared.ema.kern->restore_state(state);
      plain.ema.kern->restore_state(state);
    }
    const auto a = shared.ret.feed(t, with_shared);
    const auto b = plain.ret.feed(t, with_plain);
    REQUIRE(a.has_value() == b.has_value());
    if (!a) continue;
    CHECK(to_msgpack(*a) == to_msgpack(*b));
    for (auto node : {&chain::ema, &chain::z}) {
      const auto x = (shared.*node).feed(t, *a);
      const auto y = (plain.*node).feed(t, *b);
      REQUIRE(x.has_value() == y.has_value());
      if (x) {
        INFO("bucket " << t);
        CHECK(to_msgpack(*x) == to_msgpack(*y));
        ++compared;
      }
    }
  }
  CHECK(compared > 700);
  CHECK(shared.z.kern->notes() == plain.z.kern->notes());
  CHECK(shared.ret.kern->notes() == plain.ret.kern->notes());
}
