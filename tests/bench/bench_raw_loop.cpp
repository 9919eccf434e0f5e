// The limit for the quickstart graph: the same math as log_return -> ema(span) and
// zscore(window), in one plain single-threaded loop over a recorded journal's scans held in
// memory. No actors, no windows, no encoding: what the hardware allows, against which
// scripts/bench sets `shoal replay`.
//
// Each step is O(1) per asset (zscore keeps a rolling sum and sum of squares), the cheapest
// honest form of the math: the limit the engine is measured against, not a copy of its kernels.
//
// No shoal headers (decisions.md, "Measurement"): the prices come as a flat file of
// little-endian float64, scan after scan, that scripts/bench writes from the journal
// (tests/bench/journal_prices.py).
//
// Usage: shoal_bench_raw_loop FILE ASSETS [REPEATS]
// Prints "raw_loop_scans <n>", "raw_loop_scans_per_s <rate>" and a checksum that keeps the
// optimiser from dropping the work.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr std::size_t span = 10;
constexpr std::size_t window = 20;

struct loop_state {
  explicit loop_state(std::size_t assets)
      : prev(assets, NAN),
        ema(assets, NAN),
        ring(assets * window, 0.0),
        sum(assets, 0.0),
        sumsq(assets, 0.0),
        filled(assets, 0) {}
  std::vector<double> prev, ema, ring, sum, sumsq;
  std::vector<std::size_t> filled;
  std::size_t slot = 0;
};

// One scan through the three nodes; returns the sum of this scan's outputs.
double step(loop_state& s, const std::vector<double>& prices) {
  const std::size_t n = prices.size();
  const double alpha = 2.0 / (static_cast<double>(span) + 1.0);
  const std::size_t at = s.slot % window;
  double out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = prices[i];
    const double r = std::isfinite(s.prev[i]) ? std::log(p / s.prev[i]) : NAN;
    s.prev[i] = p;
    if (!std::isfinite(r)) {
      continue;
    }
    s.ema[i] = std::isfinite(s.ema[i]) ? alpha * r + (1 - alpha) * s.ema[i] : r;
    out += s.ema[i];
    double& old = s.ring[i * window + at];
    s.sum[i] += r - old;
    s.sumsq[i] += r * r - old * old;
    old = r;
    if (++s.filled[i] < window) {
      continue;
    }
    const double mean = s.sum[i] / window;
    const double var = (s.sumsq[i] - s.sum[i] * mean) / (window - 1);
    if (var > 0) {
      out += (r - mean) / std::sqrt(var);
    }
  }
  ++s.slot;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE ASSETS [REPEATS]\n", argv[0]);
    return 2;
  }
  const std::size_t assets = std::strtoul(argv[2], nullptr, 10);
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<double> flat;
  for (double x; in.read(reinterpret_cast<char*>(&x), sizeof x);) {
    flat.push_back(x);
  }
  if (assets == 0 || flat.empty() || flat.size() % assets != 0) {
    std::fprintf(stderr, "%s: expected scans of %zu float64 prices\n", argv[1], assets);
    return 1;
  }
  std::vector<std::vector<double>> scans;
  for (std::size_t at = 0; at < flat.size(); at += assets) {
    scans.emplace_back(flat.begin() + at, flat.begin() + at + assets);
  }
  double checksum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int rep = 0; rep < repeats; ++rep) {
    loop_state s(assets);
    for (const auto& prices : scans) {
      checksum += step(s, prices);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double n = static_cast<double>(scans.size()) * repeats;
  std::printf("raw_loop_scans %zu (x %d repeats)\n", scans.size(), repeats);
  std::printf("raw_loop_scans_per_s %.0f\n", n / secs);
  std::printf("raw_loop_checksum %.6g\n", checksum);
  return 0;
}
