#include "actors/eigen_scanner/eigen_scanner.hpp"

#include <algorithm>
#include <cmath>

namespace shoal {

eigen_scanner_kernel::eigen_scanner_kernel(std::vector<std::int64_t> windows, std::int64_t short_w,
                                           std::int64_t long_w) {
  for (std::size_t i = 0; i < windows.size(); ++i) {
    windows_.emplace_back();
    windows_.back().w = static_cast<std::size_t>(windows[i]);
    if (windows[i] == short_w) short_index_ = i;
    if (windows[i] == long_w) long_index_ = i;
  }
}

void eigen_scanner_kernel::reset() {
  for (auto& s : windows_) {
    s.moments.clear();
    s.has_prev = false;
    s.prev_lambda = 0;
    s.prev_n = 0;
    s.vector_ids.clear();
    s.vector.resize(0);
  }
}

// One window at the newest scan (cache_ is in sync with the ring and holds >= W + 1 scans).
eigen_scanner_kernel::window_result eigen_scanner_kernel::scan_window_w(window_state& s) {
  const std::size_t w = s.w;
  const std::size_t last = cache_.size();  // rows of window W: entries [last − W, last)
  const scan_entry& newest = cache_[last - 1];

  set_.clear();
  for (auto id : ids_.by_name())
    if (newest.priced(id) >= w + 1) set_.push_back(id);
  if (set_.empty()) {
    s.moments.clear();
    note("window_empty");
    return {};
  }

  // Incremental only when the sums hold exactly the W − 1 rows before the newest one: same
  // assets, the previous call saw the scan before this one, and no rebuild is due yet.
  const bool incremental = s.moments.valid() && s.moments.ids() == set_ &&
                           s.moments.last_t() == cache_[last - 2].t &&
                           s.moments.rows() + 1 == static_cast<std::int64_t>(w) &&
                           s.moments.steps() < static_cast<std::int64_t>(w);
  if (incremental)
    s.moments.add(newest);
  else
    s.moments.rebuild(set_, cache_, last - w, last);

  keep_.clear();
  for (std::size_t i = 0; i < set_.size(); ++i) {
    // Exact test first: W identical returns are zero variance however the sums round.
    if (newest.flat(set_[i]) >= w) {
      note("zero_variance");
      continue;
    }
    if (!(s.moments.centered_ss(i) > 0)) {  // rounding residue of a (near-)flat series
      note("non_positive_variance");
      continue;
    }
    keep_.push_back(i);
  }

  window_result r;
  r.n = static_cast<std::int64_t>(keep_.size());
  if (keep_.size() == 1) {
    r.lambda = 1.0;  // the 1×1 correlation matrix [1]
    note("single_asset");
  } else if (keep_.size() > 1) {
    s.moments.correlation(keep_, corr_);
    const double top = top_of_correlation(s);
    if (std::isfinite(top)) {
      r.lambda = top;
    } else {
      note("eigen_failed");
      r = {};
    }
  } else {
    note("window_empty");
  }

  // Drop the row that leaves the window next bucket now, while its scan is still in the ring
  // (for the largest window the scan before it is evicted by then).
  s.moments.remove(cache_[last - w]);
  s.moments.set_last_t(newest.t);
  return r;
}

// λ_max of corr_ (the window's kept assets): the warm power iteration when its bound proves
// 1e-14 relative accuracy, else the exact tridiagonal bisection (note `lambda_exact`).
double eigen_scanner_kernel::top_of_correlation(window_state& s) {
  const auto k = static_cast<Eigen::Index>(keep_.size());
  // Start from the previous iterate, entry by asset; an asset new to the window starts at 0
  // (the products fill it in), and without any overlap every asset weighs the same.
  position_.assign(ids_.size(), -1);
  for (std::size_t j = 0; j < s.vector_ids.size(); ++j)
    position_[s.vector_ids[j]] = static_cast<std::int64_t>(j);
  Eigen::VectorXd start = Eigen::VectorXd::Zero(k);
  std::vector<std::uint32_t> ids(keep_.size());
  bool overlap = false;
  for (Eigen::Index i = 0; i < k; ++i) {
    const std::uint32_t id = set_[keep_[static_cast<std::size_t>(i)]];
    ids[static_cast<std::size_t>(i)] = id;
    if (const auto j = position_[id]; j >= 0) {
      start(i) = s.vector(j);
      overlap = overlap || start(i) != 0;
    }
  }
  if (!overlap) start.setOnes();
  const auto r = warm_.compute(corr_, start);
  s.vector_ids = std::move(ids);
  s.vector = std::move(start);
  if (r.proven) return r.lambda;
  // Start the next bucket afresh: an iterate that proved nothing may be stuck on a lower
  // eigenvector.
  s.vector_ids.clear();
  s.vector.resize(0);
  note("lambda_exact");
  return top_.compute(corr_);
}

Value eigen_scanner_kernel::compute(const kernel_input& in) {
  const slot_ring& ring = in.port(0);
  if (!cache_.sync(ring, ids_)) {
    note("not_scan");
    return Value{};
  }
  const std::size_t need = windows_.back().w + 1;
  if (cache_.size() < need) {  // the host fires only with a full window; be safe anyway
    note("short_window");
    return Value{};
  }

  value_list windows, counts;
  f64_vector lambda, share, velocity;
  for (auto& s : windows_) {
    const window_result r = scan_window_w(s);
    double v = 0;
    // velocity is 0 the first time and across an empty window (λ = 0 there is a placeholder,
    // not a level to differentiate).
    if (s.has_prev && r.n > 0 && s.prev_n > 0)
      v = r.lambda - s.prev_lambda;
    else if (s.has_prev)
      note("velocity_reset");
    s.has_prev = true;
    s.prev_lambda = r.lambda;
    s.prev_n = r.n;
    windows.emplace_back(static_cast<std::int64_t>(s.w));
    counts.emplace_back(r.n);
    lambda.push_back(r.lambda);
    share.push_back(r.n > 0 ? r.lambda / static_cast<double>(r.n) : 0.0);
    velocity.push_back(v);
  }

  // Breadth: the newest return of every asset priced in the last two scans, in name order.
  const scan_entry& newest = cache_[cache_.size() - 1];
  double sum = 0;
  std::int64_t n = 0, up = 0, down = 0;
  for (auto id : ids_.by_name()) {
    const double r = newest.ret_of(id);
    if (std::isnan(r)) continue;
    sum += r;
    ++n;
    up += r > 0;
    down += r < 0;
  }
  double mean = 0, up_ratio = 0, down_ratio = 0;
  if (n > 0) {
    const double dn = static_cast<double>(n);
    mean = sum / dn;
    up_ratio = static_cast<double>(up) / dn;
    down_ratio = static_cast<double>(down) / dn;
  } else {
    note("no_returns");
  }
  const char* regime = up_ratio >= 0.60 ? "BULL" : down_ratio >= 0.55 ? "BEAR" : "SIDEWAYS";

  const double vel_div = velocity[short_index_] - velocity[long_index_];
  return Value(value_map{{"windows", Value(std::move(windows))},
                         {"lambda_max", Value(std::move(lambda))},
                         {"share", Value(std::move(share))},
                         {"velocity", Value(std::move(velocity))},
                         {"n_assets", Value(std::move(counts))},
                         {"vel_div", Value(vel_div)},
                         {"mean_return", Value(mean)},
                         {"up_ratio", Value(up_ratio)},
                         {"down_ratio", Value(down_ratio)},
                         {"regime", Value(regime)}});
}

Value eigen_scanner_kernel::save_state() const {
  value_list ws;
  for (const auto& s : windows_) {
    value_list assets;
    for (auto id : s.vector_ids) assets.emplace_back(ids_.name(id));
    f64_vector vector(s.vector.data(), s.vector.data() + s.vector.size());
    ws.emplace_back(value_map{{"w", Value(static_cast<std::int64_t>(s.w))},
                              {"has_prev", Value(s.has_prev)},
                              {"prev_lambda", Value(s.prev_lambda)},
                              {"prev_n", Value(s.prev_n)},
                              {"moments", s.moments.save(ids_)},
                              {"vector_assets", Value(std::move(assets))},
                              {"vector", Value(std::move(vector))}});
  }
  return Value(value_map{{"version", Value(2)}, {"windows", Value(std::move(ws))}});
}

void eigen_scanner_kernel::restore_state(const Value& v) {
  reset();
  if (v.is_nil()) return;
  // A checkpoint that does not fit (other params, a damaged value) starts the kernel fresh:
  // velocities restart at 0 and the sums are rebuilt from the window.
  auto bad = [&] {
    reset();
    note("bad_state");
  };
  const Value* version = v.find("version");
  const Value* ws = v.find("windows");
  if (!version || !version->is_int() || version->as_int() != 2 || !ws || !ws->is_list() ||
      ws->as_list().size() != windows_.size())
    return bad();
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    const Value& x = ws->as_list()[i];
    auto& s = windows_[i];
    const Value* w = x.find("w");
    const Value* has_prev = x.find("has_prev");
    const Value* prev_lambda = x.find("prev_lambda");
    const Value* prev_n = x.find("prev_n");
    const Value* moments = x.find("moments");
    if (!w || !w->is_int() || w->as_int() != static_cast<std::int64_t>(s.w) || !has_prev ||
        !has_prev->is_bool() || !prev_lambda || !prev_lambda->is_number() ||
        !std::isfinite(prev_lambda->as_number()) || !prev_n || !prev_n->is_int() || !moments)
      return bad();
    s.has_prev = has_prev->as_bool();
    s.prev_lambda = prev_lambda->as_number();
    s.prev_n = prev_n->as_int();
    if (!s.moments.restore(*moments, ids_)) return bad();
    const Value* assets = x.find("vector_assets");
    const Value* vector = x.find("vector");
    if (!assets || !assets->is_list() || !vector) return bad();
    std::vector<double> entries;
    if (vector->is_f64_vector()) {
      entries = vector->as_f64_vector();
    } else if (!vector->is_list() || !vector->as_list().empty()) {
      return bad();  // an empty vector decodes to a list; a non-empty one is f64
    }
    if (entries.size() != assets->as_list().size()) return bad();
    for (const auto& a : assets->as_list()) {
      if (!a.is_string()) return bad();
      s.vector_ids.push_back(ids_.intern(a.as_string()));
    }
    s.vector = Eigen::Map<const Eigen::VectorXd>(entries.data(),
                                                 static_cast<Eigen::Index>(entries.size()));
  }
}

kind_info eigen_scanner_kind() {
  kind_info k;
  k.name = "eigen_scanner";
  // 2: λ_max by the warm power iteration (within 1e-14 relative, proven per bucket) instead of
  // the exact bisection on every bucket; the last bits of lambda_max / share / velocity differ.
  k.version = 2;
  k.summary =
      "largest eigenvalue of the assets' return correlation per window, its velocity, and "
      "market breadth (mean return, up/down ratio, regime)";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    const auto windows = r.get_int_list("windows", {50, 150}, 2, 5000, 4);
    for (std::size_t i = 1; i < windows.size(); ++i)
      if (windows[i] <= windows[i - 1])
        throw param_error("windows", "must be sorted ascending without repeats");
    auto member = [&](const char* key, std::int64_t def) {
      const auto x = r.get_int(key, def, 2, 5000);
      if (std::find(windows.begin(), windows.end(), x) == windows.end())
        throw param_error(key, std::string("must be one of windows, got ") + std::to_string(x));
    };
    member("short", 50);
    member("long", 150);
    return r.finish();
  };
  k.min_period = [](const value_map& p) {
    // W returns need W + 1 prices.
    return static_cast<std::size_t>(p.at("windows").as_list().back().as_int()) + 1;
  };
  // All history: the state that shapes the last bits of λ_max — the phase of the sums'
  // every-W rebuild and the warm start of the power iteration — goes back to the kernel's
  // first bucket, so only a replay from the start (or a checkpoint) rebuilds it exactly.
  k.warm_history = [](const value_map&, std::int64_t, std::size_t) {
    return std::optional<std::size_t>();
  };
  k.make = [](const value_map& p, const kernel_context&) {
    std::vector<std::int64_t> windows;
    for (const auto& x : p.at("windows").as_list()) windows.push_back(x.as_int());
    return std::make_unique<eigen_scanner_kernel>(std::move(windows), p.at("short").as_int(),
                                                  p.at("long").as_int());
  };
  return k;
}

}  // namespace shoal
