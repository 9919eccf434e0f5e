#include "actors/vwap/vwap.hpp"

#include <cmath>

namespace shoal {

Value vwap_kernel::compute(const kernel_input& in) {
  const slot_ring& pw = in.port(0);
  const slot_ring& qw = in.port(1);
  if (pw.size() < window_) {
    note("short_window");
    return Value{};
  }
  // The two rings are not necessarily aligned: with on_missing = skip a port that had a value
  // in a skipped bucket still records it. Pair the price slots with volume slots by bucket.
  const std::size_t first = pw.size() - window_;
  // The volume ring has the same capacity; its slots from the first price bucket on.
  std::size_t q_first = 0;
  while (q_first < qw.size() && qw[q_first].t < pw[first].t) ++q_first;
  if (!prices_.sync(pw, first, window_, ids_) ||
      !volumes_.sync(qw, q_first, qw.size() - q_first, ids_)) {
    note("not_asset_values");
    return Value{};
  }
  const std::size_t m = ids_.size();
  p_.resize(m * window_);
  q_.resize(m * window_);
  p_seen_.assign(m, 0);
  q_seen_.assign(m, 0);
  for (std::size_t p = 0, qi = q_first; p < window_; ++p) {
    const auto& pe = prices_.entries()[p];
    for (std::size_t k = 0; k < pe.view.size(); ++k) {  // views hold each name once
      p_[pe.ids[k] * window_ + p] = pe.view[k].x;
      ++p_seen_[pe.ids[k]];
    }
    while (qi < qw.size() && qw[qi].t < pw[first + p].t) ++qi;
    if (qi == qw.size() || qw[qi].t != pw[first + p].t) continue;  // no volume: incomplete
    const auto& qe = volumes_.entries()[qi - q_first];
    for (std::size_t k = 0; k < qe.view.size(); ++k) {
      q_[qe.ids[k] * window_ + p] = qe.view[k].x;
      ++q_seen_[qe.ids[k]];
    }
  }

  value_list names;
  f64_vector values;
  const auto& last = prices_.entries()[window_ - 1];
  for (std::size_t k = 0; k < last.view.size(); ++k) {
    const std::uint32_t id = last.ids[k];
    if (p_seen_[id] != window_ || q_seen_[id] != window_) {
      note("incomplete_window");
      continue;
    }
    const double* ps = &p_[id * window_];
    const double* qs = &q_[id * window_];
    // In time order, so the sums match a rolling sum's order.
    double pq = 0, q = 0;
    const char* bad = nullptr;
    for (std::size_t p = 0; p < window_ && !bad; ++p) {
      if (!(ps[p] > 0))
        bad = "non_positive_price";  // vector inputs may carry them; scans never do
      else if (qs[p] < 0)
        bad = "negative_volume";
      pq += ps[p] * qs[p];
      q += qs[p];
    }
    if (bad) {
      note(bad);
      continue;
    }
    if (!(q > 0)) {
      note("zero_volume");
      continue;
    }
    const double vwap = pq / q;
    if (!std::isfinite(vwap)) {  // p * q can overflow for absurd inputs
      note("non_finite_result");
      continue;
    }
    names.emplace_back(std::string(last.view[k].name));
    values.push_back(vwap);
  }
  return asset_values_map(Value(std::move(names)), Value(std::move(values)));
}

kind_info vwap_kind() {
  kind_info k;
  k.name = "vwap";
  k.ports = {"price", "volume"};
  k.summary = "volume-weighted average price sum(p*q)/sum(q) over the last `window` buckets";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("window", 20, 1, 100'000);
    return r.finish();
  };
  k.min_period = [](const value_map& p) {
    return static_cast<std::size_t>(p.at("window").as_int());
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<vwap_kernel>(static_cast<std::size_t>(p.at("window").as_int()));
  };
  return k;
}

}  // namespace shoal
