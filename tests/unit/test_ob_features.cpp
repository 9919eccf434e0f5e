// ob_features: reference, stale/empty books, checkpoints (with dc_signal), all market params.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>

#include "actors/ob_features/ob_features.hpp"
#include "messages/msgpack_codec.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

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
// Params of all five market kinds (rolling_vol, vwap, ob_features, asset_selector, dc_signal)

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
