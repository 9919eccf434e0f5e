#include "actors/asset_selector/asset_selector.hpp"

#include <cmath>
#include <string>

namespace shoal {

Value asset_selector_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  const std::size_t n_px = window_ + 1;
  if (w.size() < n_px) {
    note("short_window");
    return Value{};
  }
  const std::size_t first = w.size() - n_px;
  if (!views_.sync(w, first, n_px, ids_)) {
    note("not_asset_values");
    return Value{};
  }
  // r = ln(p_t) - ln(p_{t-1}): each price's log is taken once, when its scan enters the
  // window, instead of window times. Equal to ln(p_t / p_{t-1}) within a few ulps of ln(p).
  const std::size_t m = ids_.size();
  lp_.resize(m * n_px);
  seen_.assign(m, 0);
  for (std::size_t p = 0; p < n_px; ++p) {
    auto& e = views_.entries()[p];
    if (!e.aux_ready) {
      e.aux.resize(e.view.size());
      for (std::size_t k = 0; k < e.view.size(); ++k)
        e.aux[k] = e.view[k].x > 0 ? std::log(e.view[k].x) : NAN;
      e.aux_ready = true;
    }
    for (std::size_t k = 0; k < e.view.size(); ++k) {  // views hold each name once
      if (!std::isfinite(e.aux[k])) continue;  // vector inputs may carry non-positive "prices"
      lp_[e.ids[k] * n_px + p] = e.aux[k];
      ++seen_[e.ids[k]];
    }
  }
  std::string_view best;
  double best_z = 0;
  bool found = false;
  // Assets are visited in name order and only a strictly larger |z| replaces the best, so a
  // tie keeps the smallest name.
  const auto& last = views_.entries()[window_];
  for (std::size_t k = 0; k < last.view.size(); ++k) {
    const std::uint32_t id = last.ids[k];
    if (seen_[id] != n_px) {
      note("incomplete_window");
      continue;
    }
    const double* lp = &lp_[id * n_px];
    r_.resize(window_);
    double lo = 0, hi = 0, sum = 0;
    for (std::size_t i = 0; i < window_; ++i) {
      r_[i] = lp[i + 1] - lp[i];
      lo = i ? std::min(lo, r_[i]) : r_[i];
      hi = i ? std::max(hi, r_[i]) : r_[i];
      sum += r_[i];
    }
    double z = 0;
    // Exact test: equal returns must give z = 0, not a rounding residue over a tiny std.
    if (lo != hi) {
      const double mean = sum / static_cast<double>(window_);
      double ss = 0;
      for (double r : r_) ss += (r - mean) * (r - mean);
      const double sd = std::sqrt(ss / static_cast<double>(window_ - 1));
      z = sd > 0 ? (r_.back() - mean) / sd : 0.0;
    }
    if (!std::isfinite(z)) {
      note("non_finite_result");
      continue;
    }
    if (!found || std::abs(z) > std::abs(best_z)) {
      best = last.view[k].name;
      best_z = z;
      found = true;
    }
  }
  if (!found) {
    note("no_eligible_asset");
    return Value{};
  }
  return Value(value_map{{"asset", Value(std::string(best))},
                         {"z", Value(best_z)},
                         {"direction", Value(best_z > 0 ? "SHORT" : "LONG")}});
}

kind_info asset_selector_kind() {
  kind_info k;
  k.steady_outputs = true;  // a selection holds while the ranking does
  k.name = "asset_selector";
  k.summary = "the asset whose latest log return has the largest |z| over `window` returns";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("window", 20, 2, 100'000);
    return r.finish();
  };
  k.min_period = [](const value_map& p) {
    return static_cast<std::size_t>(p.at("window").as_int()) + 1;
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<asset_selector_kernel>(
        static_cast<std::size_t>(p.at("window").as_int()));
  };
  return k;
}

}  // namespace shoal
