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

// The bootstrap itself. returns[i], i = 0 oldest. For each path in turn, `horizon` draws
// idx = rng.below(returns.size()) (next() % n), e_t = e_{t-1} * exp(returns[idx]), e_0 = 1;
// the path's max drawdown is max_t (1 - e_t / max_{s<=t} e_s) and it counts when > dd.
// Returns count / paths.
double mc_p_drawdown(const std::vector<double>& returns, std::uint64_t seed, std::int64_t paths,
                     std::int64_t horizon, double dd);

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
  std::vector<double> returns_;  // reused between buckets to avoid reallocating
};

}  // namespace shoal
