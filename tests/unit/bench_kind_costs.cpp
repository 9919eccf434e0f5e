// Each market and regime kernel's cost per bucket (hidden: run with "[.bench]"), figures only.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "actors/acb/acb.hpp"
#include "actors/asset_selector/asset_selector.hpp"
#include "actors/dc_signal/dc_signal.hpp"
#include "actors/ob_features/ob_features.hpp"
#include "actors/rolling_vol/rolling_vol.hpp"
#include "actors/vwap/vwap.hpp"
#include "tests/unit/kind_reference.hpp"

using namespace shoal;
using namespace shoal::testing;

// ---------------------------------------------------------------------------------------------
// Market kinds at 48 assets

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

// ---------------------------------------------------------------------------------------------
// Regime kinds

namespace {
// Runs the kind's kernel `n` times on fixed full windows, a new bucket each time, and prints
// µs per bucket. Windows are built once; the kernel alone is timed.
double bench_kernel(const std::string& kind, const value_map& params,
                    const std::vector<std::vector<Value>>& port_values, int n) {
  const kind_info* info = find_kind(kind);
  const auto norm = info->normalize(params);
  const std::size_t period = info->min_period(norm);
  std::vector<slot_ring> rings(port_values.size(), slot_ring(period));
  for (std::size_t p = 0; p < port_values.size(); ++p)
    for (std::size_t i = 0; i < period; ++i)
      rings[p].push(slot{static_cast<std::int64_t>(i) * sec,
                         make_value(port_values[p][i % port_values[p].size()])});
  auto k = info->make(norm, kernel_context{node_a, sec, period});
  kernel_input in;
  for (const auto& r : rings) in.ports.push_back(&r);
  std::size_t sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    in.bucket = (1'700'000'000 + i) * sec;
    sink += k->compute(in).is_nil() ? 0 : 1;
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
  std::cout << kind << ": " << us << " us/bucket (" << n << " buckets, " << sink << " outputs)\n";
  return us;
}
}  // namespace

TEST_CASE("regime kinds: cost per bucket", "[.bench]") {
  register_regime_kinds();
  std::vector<Value> scans;
  for (int i = 0; i < 100; ++i)
    scans.push_back(scanner(0.3 + 0.002 * i, 0.001 * (i % 5), 0.004 * std::sin(i * 0.7)));
  bench_kernel("acb", {}, {scans}, 20000);
  bench_kernel("mc_forewarner", {}, {scans}, 500);
  bench_kernel("mc_forewarner", {{"paths", Value(200)}}, {scans}, 2000);
  bench_kernel("esof", {}, {{Value{}}}, 200000);
  bench_kernel("posture", {}, {{acb_value(2)}}, 200000);
  sizing_case c;
  std::vector<std::vector<Value>> ports;
  for (auto& v : c.values()) ports.push_back({*v});
  bench_kernel("sizing", {}, ports, 100000);
}
