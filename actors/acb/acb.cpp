#include "actors/acb/acb.hpp"

#include "actors/core/scanner_output.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace shoal {

namespace {
constexpr std::array<double, 4> betas{1.0, 0.85, 0.55, 0.25};

std::optional<double> finite_number(const Value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  const double x = v->as_number();
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}
}  // namespace

double acb_beta(std::int64_t stress) { return betas.at(static_cast<std::size_t>(stress)); }

double acb_boost(std::int64_t stress) {
  return 1.0 + 0.5 * std::log(1.0 + static_cast<double>(3 - stress));
}

Value acb_value(std::int64_t stress) {
  return Value(value_map{{"boost", Value(acb_boost(stress))},
                         {"beta", Value(acb_beta(stress))},
                         {"stress", Value(stress)}});
}

Value acb_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  if (w.size() < vol_window_) {  // the window cache fires only on a full ring; be safe anyway
    note("incomplete_window");
    return Value{};
  }
  const Value& last = *w.back().v;

  // share of the window whose length is `short`: the scanner lists its windows, so find it
  // by value rather than assuming a position (configs may order or extend windows freely).
  const Value* windows = last.find("windows");
  const Value* shares = last.find("share");
  if (!windows || !shares) {
    note("malformed_input");
    return Value{};
  }
  std::optional<std::size_t> at;
  for (std::size_t i = 0; i < numeric_array_size(*windows); ++i) {
    const auto x = numeric_element(*windows, i);
    if (x && *x == static_cast<double>(short_)) {
      at = i;
      break;
    }
  }
  if (!at) {
    note("short_window_absent");
    return Value{};
  }
  const auto share = numeric_element(*shares, *at);
  const auto vel_div = finite_number(last.find("vel_div"));
  if (!share || !std::isfinite(*share) || !vel_div) {
    note("malformed_input");
    return Value{};
  }

  // Sample std of the last vol_window mean_returns; every slot must carry one, as zscore
  // requires a complete window (a gap would silently shorten the sample).
  double xs_sum = 0, lo = 0, hi = 0;
  std::vector<double> xs;
  xs.reserve(vol_window_);
  for (std::size_t p = w.size() - vol_window_; p < w.size(); ++p) {
    const auto r = scanner_mean_return(*w[p].v);
    if (!r) {
      note("incomplete_window");
      return Value{};
    }
    if (xs.empty()) lo = hi = *r;
    lo = std::min(lo, *r);
    hi = std::max(hi, *r);
    xs_sum += *r;
    xs.push_back(*r);
  }
  double sd = 0;
  if (lo != hi) {  // exact test: flat input must give std 0, not a rounding residue
    const double mean = xs_sum / static_cast<double>(xs.size());
    double ss = 0;
    for (double x : xs) ss += (x - mean) * (x - mean);
    sd = std::sqrt(ss / static_cast<double>(xs.size() - 1));
  }
  if (!std::isfinite(sd)) {
    note("non_finite_result");
    return Value{};
  }

  const std::int64_t stress = (*share >= 0.5 ? 1 : 0) + (std::abs(*vel_div) >= 0.02 ? 1 : 0) +
                              (sd >= vol_threshold_ ? 1 : 0);
  return acb_value(stress);
}

kind_info acb_kind() {
  kind_info k;
  k.steady_outputs = true;  // beta and boost sit at their clamps in calm stretches
  k.name = "acb";
  k.summary =
      "stress 0..3 from the scanner (short-window share, vel_div, mean_return vol) -> "
      "boost, beta";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("vol_window", 20, 2, 100'000);
    r.get_double("vol_threshold", 0.001, 0.0, std::numeric_limits<double>::max());
    r.get_int("short", 50, 1, 1'000'000);
    return r.finish();
  };
  k.min_period = [](const value_map& p) {
    return static_cast<std::size_t>(p.at("vol_window").as_int());
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<acb_kernel>(static_cast<std::size_t>(p.at("vol_window").as_int()),
                                        p.at("vol_threshold").as_number(), p.at("short").as_int());
  };
  return k;
}

}  // namespace shoal
