// mc_forewarner: the Python reimplementation exactly, sliding windows, seeding, edges, params.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "actors/core/prng.hpp"
#include "actors/mc_forewarner/mc_forewarner.hpp"
#include "messages/payloads.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

namespace {
// Feeds returns so that the last one lands on `bucket` and returns that bucket's output.
std::optional<Value> feed_mc(kernel_harness& h, const std::vector<double>& rets,
                             std::int64_t bucket) {
  std::optional<Value> out;
  const auto n = static_cast<std::int64_t>(rets.size());
  for (std::int64_t i = 0; i < n; ++i)
    out =
        feed1(h, bucket - (n - 1 - i) * sec, scanner(0.3, 0.0, rets[static_cast<std::size_t>(i)]));
  return out;
}

value_map mc_params(std::int64_t paths, std::int64_t horizon, std::int64_t window, double dd) {
  return {{"paths", Value(paths)},
          {"horizon", Value(horizon)},
          {"window", Value(window)},
          {"dd", Value(dd)}};
}
}  // namespace

TEST_CASE("mc_forewarner: matches the Python reimplementation exactly", "[kinds][mc]") {
  register_regime_kinds();
  const auto ref = load_reference("mc_forewarner.json");

  // The PRNG itself first, so a mismatch below is known to be in the procedure.
  xoshiro256ss g(ref["prng"]["seed"].get<std::uint64_t>());
  for (const auto& want : ref["prng"]["next"])
    CHECK(g.next() == std::stoull(want.get<std::string>()));

  REQUIRE(ref["cases"].size() >= 5);
  for (const auto& c : ref["cases"]) {
    INFO("case " << c["name"].get<std::string>());
    const auto node = c["node_id"].get<std::string>();
    const auto bucket = c["bucket"].get<std::int64_t>();
    const auto rets = c["returns"].get<std::vector<double>>();
    const auto paths = c["paths"].get<std::int64_t>();
    const auto horizon = c["horizon"].get<std::int64_t>();
    const auto window = c["window"].get<std::int64_t>();
    const auto dd = c["dd"].get<double>();
    const double want_p = c["p_drawdown"].get<double>();

    const std::uint64_t seed = mc_seed(mc_node_prefix(node), bucket);
    CHECK(seed == std::stoull(c["seed"].get<std::string>()));
    CHECK(mc_p_drawdown(rets, seed, paths, horizon, dd) == want_p);

    kernel_harness h("mc_forewarner", mc_params(paths, horizon, window, dd), 0, node);
    auto out = feed_mc(h, rets, bucket);
    REQUIRE(out);
    REQUIRE_NOTHROW(validate_mc(*out));
    CHECK(out->find("p_drawdown")->as_double() == want_p);
    CHECK(out->find("status")->as_string() == c["status"].get<std::string>());
    CHECK(out->find("scale")->as_double() == c["scale"].get<double>());
  }
}

TEST_CASE("mc_forewarner: a sliding window (cached slots) equals a fresh computation",
          "[kinds][mc]") {
  register_regime_kinds();
  std::vector<double> rets;
  for (int i = 0; i < 160; ++i) rets.push_back(0.005 * std::sin(i * 0.7) - 0.0004 * (i % 5));
  const std::int64_t b0 = 1'700'000'000 * sec;
  kernel_harness h("mc_forewarner", mc_params(200, 20, 100, 0.02), 0, node_a);
  int fired = 0;
  for (std::size_t i = 0; i < rets.size(); ++i) {
    const std::int64_t b = b0 + static_cast<std::int64_t>(i) * sec;
    auto out = feed1(h, b, scanner(0.3, 0.0, rets[i]));
    if (i < 99) continue;
    REQUIRE(out);
    const std::vector<double> window(rets.begin() + static_cast<std::ptrdiff_t>(i) - 99,
                                     rets.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    INFO("bucket " << i);
    CHECK(out->find("p_drawdown")->as_double() ==
          mc_p_drawdown(window, mc_seed(mc_node_prefix(node_a), b), 200, 20, 0.02));
    ++fired;
  }
  CHECK(fired == 61);
}

TEST_CASE("mc_forewarner: determinism, seeding, edge windows", "[kinds][mc]") {
  register_regime_kinds();
  // A noisy window: ±0.006 alternating with a slow drift; enough paths hit 2% drawdown that
  // the share moves with the seed.
  std::vector<double> rets;
  for (int i = 0; i < 100; ++i) rets.push_back((i % 2 ? 0.006 : -0.0062) * (1 + (i % 7) / 10.0));
  const std::int64_t b = 1'700'000'000 * sec;

  SECTION("same inputs, NodeID and bucket -> identical output") {
    kernel_harness h1("mc_forewarner", {}, 0, node_a), h2("mc_forewarner", {}, 0, node_a);
    auto a = feed_mc(h1, rets, b), c = feed_mc(h2, rets, b);
    REQUIRE(a);
    REQUIRE(c);
    CHECK(*a == *c);
  }
  SECTION("another bucket or NodeID reseeds (p generally differs)") {
    kernel_harness h1("mc_forewarner", {}, 0, node_a);
    kernel_harness h2("mc_forewarner", {}, 0, node_a);
    kernel_harness h3("mc_forewarner", {}, 0, std::string(64, 'b'));
    const double p1 = feed_mc(h1, rets, b)->find("p_drawdown")->as_double();
    const double p2 = feed_mc(h2, rets, b + sec)->find("p_drawdown")->as_double();
    const double p3 = feed_mc(h3, rets, b)->find("p_drawdown")->as_double();
    CHECK(p1 > 0.0);
    CHECK(p1 < 1.0);
    CHECK(p1 != p2);
    CHECK(p1 != p3);
  }
  SECTION("seed: first 16 hex digits big-endian, XOR the bucket as u64") {
    CHECK(mc_node_prefix("0123456789abcdefXXXX") == 0x0123456789abcdefULL);
    CHECK(mc_node_prefix("0123456789ABCDEF") == 0x0123456789abcdefULL);
    CHECK(mc_seed(0x0123456789abcdefULL, -1) == ~0x0123456789abcdefULL);
    CHECK_THROWS_AS(mc_node_prefix("0123"), std::invalid_argument);
    CHECK_THROWS_AS(mc_node_prefix("0123456789abcdeg"), std::invalid_argument);
  }
  SECTION("zero volatility -> GREEN, p = 0") {
    // A constant return: 0 or positive never leaves the peak (dd 0); a constant -0.0001 is a
    // steady decline, max dd = 1 - exp(-20 · 0.0001) = 0.0020 < 0.02 on every path.
    for (double r : {0.0, 0.001, -0.0001}) {
      kernel_harness h("mc_forewarner", {}, 0, node_a);
      auto out = feed_mc(h, std::vector<double>(100, r), b);
      REQUIRE(out);
      CHECK(out->find("status")->as_string() == "GREEN");
      CHECK(out->find("scale")->as_double() == 1.0);
      CHECK(out->find("p_drawdown")->as_double() == 0.0);
    }
  }
  SECTION("a crash window -> RED, p = 1") {
    // Every draw is -1%: after 3 steps dd = 1 - exp(-0.03) = 0.0296 > 0.02 on every path.
    kernel_harness h("mc_forewarner", {}, 0, node_a);
    auto out = feed_mc(h, std::vector<double>(100, -0.01), b);
    REQUIRE(out);
    CHECK(out->find("status")->as_string() == "RED");
    CHECK(out->find("scale")->as_double() == 0.0);
    CHECK(out->find("p_drawdown")->as_double() == 1.0);
  }
  SECTION("only the last `window` values are drawn from") {
    // period 150 > window 100: the 50 oldest slots are a crash and must not count.
    kernel_harness h("mc_forewarner", {}, 150, node_a);
    std::vector<double> mixed(50, -0.05);
    mixed.insert(mixed.end(), 100, 0.0);
    auto out = feed_mc(h, mixed, b);
    REQUIRE(out);
    CHECK(out->find("p_drawdown")->as_double() == 0.0);
  }
  SECTION("a slot without mean_return -> nil, noted") {
    kernel_harness h("mc_forewarner", mc_params(10, 5, 3, 0.02), 0, node_a);
    feed1(h, 0, scanner(0.3, 0, 0.0));
    feed1(h, sec, Value(value_map{{"mean_return", Value("x")}}));
    auto out = feed1(h, 2 * sec, scanner(0.3, 0, 0.0));
    REQUIRE(out);
    CHECK(out->is_nil());
    CHECK(note_count(h.kern(), "incomplete_window") == 1);
  }
}

TEST_CASE("mc_forewarner: params", "[kinds][mc][params]") {
  register_regime_kinds();
  const auto norm = find_kind("mc_forewarner")->normalize({});
  CHECK(norm == mc_params(1000, 20, 100, 0.02));
  CHECK(find_kind("mc_forewarner")->min_period(norm) == 100);
  CHECK(param_error_key("mc_forewarner", {{"path", Value(3)}}) == "path");
  CHECK(param_error_key("mc_forewarner", {{"paths", Value(0)}}) == "paths");
  CHECK(param_error_key("mc_forewarner", {{"horizon", Value("20")}}) == "horizon");
  CHECK(param_error_key("mc_forewarner", {{"window", Value(0)}}) == "window");
  CHECK(param_error_key("mc_forewarner", {{"dd", Value(1.5)}}) == "dd");
  CHECK(param_error_key("mc_forewarner", {{"dd", Value(-0.01)}}) == "dd");
  // 1e6 paths × 20 steps = 2e7 draws per bucket > 1e7: refused, naming paths.
  CHECK(param_error_key("mc_forewarner", {{"paths", Value(1'000'000)}}) == "paths");
}
