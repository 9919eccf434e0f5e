#include "actors/ob_features/ob_features.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace shoal {

namespace {

// Sum of the first `levels` quantities of a book side; false when the side is not a numeric
// array or one of those quantities is negative or not finite.
bool top_sum(const Value* qty, std::size_t levels, double& sum) {
  sum = 0;
  if (!qty) return false;
  const auto add = [&](double x) {
    if (!std::isfinite(x) || x < 0) return false;
    sum += x;
    return true;
  };
  if (qty->is_f64_vector()) {
    const auto& xs = qty->as_f64_vector();
    for (std::size_t i = 0; i < std::min(levels, xs.size()); ++i)
      if (!add(xs[i])) return false;
    return true;
  }
  if (!qty->is_list()) return false;
  const auto& xs = qty->as_list();
  for (std::size_t i = 0; i < std::min(levels, xs.size()); ++i)
    if (!xs[i].is_number() || !add(xs[i].as_number())) return false;
  return true;
}

}  // namespace

void ob_features_kernel::update(const std::string& asset, const Value& book, std::int64_t bucket,
                                state_map::iterator& at) {
  const bool known = at != last_.end() && at->first == asset;
  // Books are validated in full (validate_ob) at ingest and never enter a window otherwise;
  // here only what the formula reads is checked, which keeps 48 books well under budget.
  double bid = 0, ask = 0;
  if (!book.is_map() || !top_sum(book.find("bid_qty"), levels_, bid) ||
      !top_sum(book.find("ask_qty"), levels_, ask)) {
    // The asset keeps its previous snapshot, which ages out as usual.
    note("invalid_book");
    if (known) ++at;
    return;
  }
  const double total = bid + ask;
  const double imb = (bid - ask) / total;
  if (!(total > 0) || !std::isfinite(imb)) {
    // The newest book has no imbalance: an older snapshot must not stand in for it.
    note("empty_book");
    if (known) at = last_.erase(at);
    return;
  }
  if (known)
    (at++)->second = snapshot{imb, bucket};
  else
    last_.emplace_hint(at, asset, snapshot{imb, bucket});  // lands just before `at`
}

Value ob_features_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  if (!w.empty() && w.back().t == in.bucket) {
    const Value& v = *w.back().v;
    if (!v.is_map()) {
      note("not_order_books");
    } else if (v.find("bid_qty")) {
      // An unkeyed stream of single books is accepted too.
      const Value* asset = v.find("asset");
      if (asset && asset->is_string()) {
        auto at = last_.lower_bound(asset->as_string());
        update(asset->as_string(), v, in.bucket, at);
      } else {
        note("invalid_book");
      }
    } else {
      auto at = last_.begin();
      for (const auto& [asset, book] : v.as_map()) {
        while (at != last_.end() && at->first < asset) ++at;
        update(asset, book, in.bucket, at);
      }
    }
  }

  value_list names;
  f64_vector values;
  names.reserve(last_.size());
  values.reserve(last_.size());
  for (auto it = last_.begin(); it != last_.end();) {
    if (in.bucket - it->second.bucket > max_age_) {
      // Buckets only move forward, so a stale snapshot can never count again: forget it.
      note("stale_book");
      it = last_.erase(it);
      continue;
    }
    names.emplace_back(it->first);
    values.push_back(it->second.imbalance);
    ++it;
  }

  double median = 0, agreement = 0;
  const std::size_t n = values.size();
  if (n == 0) {
    note("no_fresh_assets");
  } else {
    sorted_.assign(values.begin(), values.end());
    std::sort(sorted_.begin(), sorted_.end());
    median = n % 2 ? sorted_[n / 2] : (sorted_[n / 2 - 1] + sorted_[n / 2]) / 2;
    if (median != 0) {
      std::size_t agree = 0;
      for (double x : values)
        if (std::abs(x) >= eps_ && ((x > 0 && median > 0) || (x < 0 && median < 0))) ++agree;
      agreement = 100.0 * static_cast<double>(agree) / static_cast<double>(n);
    }
  }
  value_map imbalance{{"assets", Value(std::move(names))}, {"values", Value(std::move(values))}};
  return Value(value_map{{"median_imbalance", Value(median)},
                         {"agreement_pct", Value(agreement)},
                         {"n_assets", Value(static_cast<std::int64_t>(n))},
                         {"imbalance", Value(std::move(imbalance))}});
}

// {assets: [str], imbalance: [f64], bucket: [int]} — doubles stored as doubles, so a restore
// reproduces the state bit for bit.
Value ob_features_kernel::save_state() const {
  value_list assets, buckets;
  f64_vector imb;
  for (const auto& [asset, s] : last_) {
    assets.emplace_back(asset);
    imb.push_back(s.imbalance);
    buckets.emplace_back(s.bucket);
  }
  return Value(value_map{{"assets", Value(std::move(assets))},
                         {"imbalance", Value(std::move(imb))},
                         {"bucket", Value(std::move(buckets))}});
}

void ob_features_kernel::restore_state(const Value& v) {
  last_.clear();
  if (v.is_nil()) return;
  const auto bad = [] { return std::invalid_argument("ob_features: malformed checkpoint state"); };
  const Value* assets = v.find("assets");
  const Value* imb = v.find("imbalance");
  const Value* buckets = v.find("bucket");
  if (!assets || !imb || !buckets || !assets->is_list() || !buckets->is_list()) throw bad();
  // MessagePack decodes an empty float array as a list: accept both forms.
  const std::size_t n = assets->as_list().size();
  const std::size_t n_imb = imb->is_f64_vector()
                                ? imb->as_f64_vector().size()
                                : (imb->is_list() ? imb->as_list().size() : std::size_t(-1));
  if (n_imb != n || buckets->as_list().size() != n) throw bad();
  for (std::size_t i = 0; i < n; ++i) {
    const Value& a = assets->as_list()[i];
    const Value& b = buckets->as_list()[i];
    double x = NAN;
    if (imb->is_f64_vector())
      x = imb->as_f64_vector()[i];
    else if (imb->as_list()[i].is_double())
      x = imb->as_list()[i].as_double();
    if (!a.is_string() || !b.is_int() || !std::isfinite(x)) throw bad();
    last_.insert_or_assign(a.as_string(), snapshot{x, b.as_int()});
  }
}

kind_info ob_features_kind() {
  kind_info k;
  k.name = "ob_features";
  k.summary = "order-book imbalance per asset, cross-asset median and sign agreement";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("levels", 5, 1, 10'000);
    r.get_duration("max_age", 60'000'000'000);
    r.get_double("eps", 0.01, 0.0, 1.0);
    return r.finish();
  };
  // It keeps each asset's last book up to max_age old.
  k.warm_history = [](const value_map& p, std::int64_t interval_ns, std::size_t period) {
    const auto age = p.at("max_age").as_int();
    return std::optional<std::size_t>(
        period + static_cast<std::size_t>((age + interval_ns - 1) / interval_ns));
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<ob_features_kernel>(static_cast<std::size_t>(p.at("levels").as_int()),
                                                p.at("max_age").as_int(), p.at("eps").as_double());
  };
  return k;
}

}  // namespace shoal
