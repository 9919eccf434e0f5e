#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// mc_forewarner{paths=1000, horizon=20, window=100, dd=0.02} on eigen_scanner outputs
// (design §8): bootstraps `paths` equity paths of `horizon` mean_returns (log returns) drawn
// with replacement from the last `window`, and reports the share of paths whose max drawdown
// exceeds dd: p < 0.10 GREEN (scale 1.0), p < 0.30 ORANGE (0.5), else RED (0.0).
// Output {status, scale, p_drawdown}. Deterministic: see mc_seed and mc_p_drawdown.
kind_info mc_forewarner_kind();

// Seed key of a bucket: the first 16 hex digits of the NodeID read big-endian as a u64, XOR
// the bucket (two's complement as u64). xoshiro256ss(key) then fills its four state words
// with successive splitmix64 outputs starting from state = key.
// Throws std::invalid_argument when node_id has fewer than 16 hex digits.
std::uint64_t mc_node_prefix(std::string_view node_id_hex);
inline std::uint64_t mc_seed(std::uint64_t node_prefix, std::int64_t bucket) {
  return node_prefix ^ static_cast<std::uint64_t>(bucket);
}

// The bootstrap itself. returns[i], i = 0 oldest. Paths go in pairs (2q, 2q+1): at each of
// the `horizon` steps the pair takes one rng.next() value x, path 2q draws
// idx = ((x mod 2^32) * n) >> 32 and path 2q+1 idx = ((x >> 32) * n) >> 32 (n = returns.size()),
// so pair q uses outputs q*horizon ... (q+1)*horizon - 1; an odd last path ignores the high
// halves. e_t = e_{t-1} * exp(returns[idx]), e_0 = 1, peak_t = max(peak_{t-1}, e_t); a path
// counts when some e_t < (1 - dd) * peak_t (its max drawdown exceeds dd). Returns count / paths.
double mc_p_drawdown(const std::vector<double>& returns, std::uint64_t seed, std::int64_t paths,
                     std::int64_t horizon, double dd);
// The same with growth[i] = exp(returns[i]) given.
double mc_p_drawdown_growth(const std::vector<double>& growth, std::uint64_t seed,
                            std::int64_t paths, std::int64_t horizon, double dd);

class mc_forewarner_kernel final : public kernel {
 public:
  mc_forewarner_kernel(std::int64_t paths, std::int64_t horizon, std::size_t window, double dd,
                       std::uint64_t node_prefix)
      : paths_(paths), horizon_(horizon), window_(window), dd_(dd), prefix_(node_prefix) {}
  Value compute(const kernel_input& in) override;

 private:
  std::int64_t paths_, horizon_;
  std::size_t window_;
  double dd_;
  std::uint64_t prefix_;
  // exp(mean_return) of the window's slots, by slot time and value: the window slides by one
  // slot per bucket, so only the new slot is decoded and exponentiated. A pure cache of what
  // the window holds (a closed slot never changes), so it is not checkpointed.
  struct cached_growth {
    std::int64_t t;
    value_ptr value;  // held, so its address cannot be reused for another value meanwhile
    double growth;
  };
  std::vector<cached_growth> cache_, next_cache_;
  std::vector<double> growth_;
};

}  // namespace shoal
