#include "actors/fabricator/fabricator.hpp"

#include <cmath>
#include <cstdio>

namespace shoal {

fabricator::fabricator(const value_map& params, std::int64_t interval_ns)
    : interval_ns_(interval_ns),
      // Buckets sit on the interval grid, whatever second `start` names.
      start_ns_(params.at("start").as_int() * 1'000'000'000 -
                (params.at("start").as_int() * 1'000'000'000) % interval_ns),
      levels_(static_cast<std::size_t>(params.at("levels").as_int())),
      books_(!params.count("books") || params.at("books").as_bool()),
      rng_(static_cast<std::uint64_t>(params.at("seed").as_int())) {
  const auto n = static_cast<std::size_t>(params.at("assets").as_int());
  for (std::size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "A%03zu", i);
    names_.emplace_back(name);
    log_px_.push_back(std::log(10.0 + 190.0 * rng_.uniform()));
    last_ret_.push_back(0.0);
  }
}

void fabricator::step_prices() {
  // Regime shifts: rare, so windows see stretches of each market state.
  if (rng_.uniform() < 1.0 / 150.0) regime_ = static_cast<int>(rng_.below(3));
  static constexpr double drift[] = {0.0, 0.0003, -0.0004};
  static constexpr double vol[] = {0.0008, 0.0012, 0.003};
  static constexpr double rho[] = {0.2, 0.4, 0.8};  // stress correlates everything
  const double common = rng_.normal();
  const double a = std::sqrt(rho[regime_]), b = std::sqrt(1.0 - rho[regime_]);
  for (std::size_t i = 0; i < log_px_.size(); ++i) {
    const double r = drift[regime_] + vol[regime_] * (a * common + b * rng_.normal());
    log_px_[i] += r;
    last_ret_[i] = r;
  }
}

fabricated_bucket fabricator::next() {
  step_prices();
  fabricated_bucket out;
  out.bucket = start_ns_ + k_ * interval_ns_;
  out.scan_ts = out.bucket;
  out.watermark_ts = out.bucket + interval_ns_ - 1;

  value_list assets;
  f64_vector prices;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    assets.emplace_back(names_[i]);
    prices.push_back(std::exp(log_px_[i]));
  }
  out.scan = Value(value_map{{"scan_number", Value(k_)},
                             {"assets", Value(std::move(assets))},
                             {"prices", Value(std::move(prices))}});

  const auto n = static_cast<std::int64_t>(names_.size());
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (rng_.uniform() < 0.1) continue;  // not every asset's book updates every bucket
    const double mid = std::exp(log_px_[i]);
    const double half_spread = mid * 0.0001 * (1.0 + rng_.uniform());
    const double tick = mid * 0.00005;
    // Book pressure leans with the asset's last move, so imbalance carries information.
    const double lean = last_ret_[i] > 0 ? 1.3 : 0.77;
    f64_vector bid_px, bid_qty, ask_px, ask_qty;
    for (std::size_t l = 0; l < levels_; ++l) {
      bid_px.push_back(mid - half_spread - static_cast<double>(l) * tick);
      ask_px.push_back(mid + half_spread + static_cast<double>(l) * tick);
      bid_qty.push_back(std::round((1.0 + 9.0 * rng_.uniform()) * lean * 100.0) / 100.0);
      ask_qty.push_back(std::round((1.0 + 9.0 * rng_.uniform()) / lean * 100.0) / 100.0);
    }
    const std::int64_t ts =
        out.bucket + (static_cast<std::int64_t>(i) + 1) * (interval_ns_ / (n + 1));
    out.books.emplace_back(ts, Value(value_map{{"asset", Value(names_[i])},
                                               {"bid_px", Value(std::move(bid_px))},
                                               {"bid_qty", Value(std::move(bid_qty))},
                                               {"ask_px", Value(std::move(ask_px))},
                                               {"ask_qty", Value(std::move(ask_qty))}}));
  }
  // Without books the draws above still happen, so the prices (and scans) do not change.
  if (!books_) out.books.clear();
  ++k_;
  return out;
}

}  // namespace shoal
