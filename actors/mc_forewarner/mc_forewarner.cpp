#include "actors/mc_forewarner/mc_forewarner.hpp"

#include <cmath>
#include <stdexcept>

#include "actors/core/prng.hpp"
#include "actors/core/scanner_output.hpp"

namespace shoal {

namespace {
// Bounds one bucket's work: paths x horizon draws run on the node's actor thread.
constexpr std::int64_t max_draws = 10'000'000;
}  // namespace

std::uint64_t mc_node_prefix(std::string_view node_id_hex) {
  if (node_id_hex.size() < 16) throw std::invalid_argument("mc_forewarner: NodeID too short");
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = node_id_hex[i];
    std::uint64_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<std::uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<std::uint64_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<std::uint64_t>(c - 'A' + 10);
    else
      throw std::invalid_argument("mc_forewarner: NodeID is not hex");
    v = (v << 4) | d;
  }
  return v;
}

namespace {

// Two doubles in one SSE register (a GCC/Clang vector extension): the two paths of a pair run
// in lockstep, so their independent products overlap instead of waiting on each other.
typedef double pair_of_doubles __attribute__((vector_size(16)));
typedef long long pair_of_masks __attribute__((vector_size(16)));

// Multiply-shift: a 32-bit uniform onto [0, n).
inline std::size_t draw_index(std::uint64_t half, std::uint64_t n) {
  return static_cast<std::size_t>((half * n) >> 32);
}

}  // namespace

double mc_p_drawdown(const std::vector<double>& returns, std::uint64_t seed, std::int64_t paths,
                     std::int64_t horizon, double dd) {
  // exp once per window value instead of once per draw: the same doubles as exp(r_t) at each
  // step (and as the Python reference).
  std::vector<double> growth(returns.size());
  for (std::size_t i = 0; i < returns.size(); ++i) growth[i] = std::exp(returns[i]);
  return mc_p_drawdown_growth(growth, seed, paths, horizon, dd);
}

double mc_p_drawdown_growth(const std::vector<double>& growth, std::uint64_t seed,
                            std::int64_t paths, std::int64_t horizon, double dd) {
  const std::size_t n = growth.size();
  if (n == 0 || paths <= 0) return 0.0;
  const double* g = growth.data();
  const pair_of_doubles keep = {1.0 - dd, 1.0 - dd};  // drawdown > dd  <=>  e < (1 - dd) peak
  xoshiro256ss rng(seed);
  std::int64_t hits = 0;
  for (std::int64_t path = 0; path < paths; path += 2) {
    pair_of_doubles e = {1.0, 1.0}, peak = {1.0, 1.0};
    pair_of_masks hit = {0, 0};
    for (std::int64_t t = 0; t < horizon; ++t) {
      const std::uint64_t x = rng.next();  // low half: path, high half: path + 1
      const pair_of_doubles step = {g[draw_index(x & 0xffffffffULL, n)], g[draw_index(x >> 32, n)]};
      e *= step;
      peak = peak > e ? peak : e;
      hit |= e < keep * peak;
    }
    hits += hit[0] != 0;
    if (path + 1 < paths) hits += hit[1] != 0;  // an odd last path leaves the high halves unused
  }
  return static_cast<double>(hits) / static_cast<double>(paths);
}

Value mc_forewarner_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  if (w.size() < window_) {
    note("incomplete_window");
    return Value{};
  }
  next_cache_.clear();
  growth_.clear();
  std::size_t c = 0;  // cache_ and the window are both in time order: one merge pass
  for (std::size_t p = w.size() - window_; p < w.size(); ++p) {
    const std::int64_t t = w[p].t;
    const value_ptr& value = w[p].v;
    while (c < cache_.size() && cache_[c].t < t) ++c;
    double g;
    if (c < cache_.size() && cache_[c].t == t && cache_[c].value == value) {
      g = cache_[c].growth;
    } else {
      const auto r = scanner_mean_return(*w[p].v);
      if (!r) {  // a gap would change which value each draw index means: withhold instead
        note("incomplete_window");
        return Value{};
      }
      g = std::exp(*r);
    }
    next_cache_.push_back({t, value, g});
    growth_.push_back(g);
  }
  cache_.swap(next_cache_);
  const double p =
      mc_p_drawdown_growth(growth_, mc_seed(prefix_, in.bucket), paths_, horizon_, dd_);
  const char* status = p < 0.10 ? "GREEN" : p < 0.30 ? "ORANGE" : "RED";
  const double scale = p < 0.10 ? 1.0 : p < 0.30 ? 0.5 : 0.0;
  return Value(
      value_map{{"status", Value(status)}, {"scale", Value(scale)}, {"p_drawdown", Value(p)}});
}

kind_info mc_forewarner_kind() {
  kind_info k;
  k.steady_outputs = true;  // a drawdown probability stays at 0 while nothing threatens
  k.name = "mc_forewarner";
  k.summary = "bootstrap P(max drawdown > dd) of the scanner's mean_return -> GREEN/ORANGE/RED";
  // 2: paths drawn in pairs from the two halves of each PRNG output (was: one output per draw,
  // modulo), drawdown tested as e < (1 - dd) peak. Same inputs, different (equally valid) draws.
  k.version = 2;
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    const auto paths = r.get_int("paths", 1000, 1, max_draws);
    const auto horizon = r.get_int("horizon", 20, 1, max_draws);
    r.get_int("window", 100, 1, 100'000);
    r.get_double("dd", 0.02, 0.0, 1.0);
    auto out = r.finish();  // unknown keys are reported before the cross-field check
    if (paths * horizon > max_draws)
      throw param_error("paths", "paths x horizon must be at most " + std::to_string(max_draws));
    return out;
  };
  k.min_period = [](const value_map& p) {
    return static_cast<std::size_t>(p.at("window").as_int());
  };
  k.make = [](const value_map& p, const kernel_context& ctx) {
    return std::make_unique<mc_forewarner_kernel>(p.at("paths").as_int(), p.at("horizon").as_int(),
                                                  static_cast<std::size_t>(p.at("window").as_int()),
                                                  p.at("dd").as_number(),
                                                  mc_node_prefix(ctx.node_id));
  };
  return k;
}

}  // namespace shoal
