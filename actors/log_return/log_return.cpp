#include "actors/log_return/log_return.hpp"

#include <cmath>

#include "messages/payloads.hpp"

namespace shoal {

Value log_return_kernel::compute(const kernel_input& in) {
  const slot_ring& w = in.port(0);
  const value_ptr& before_v = w[w.size() - 2].v;
  // Both payloads name the same shared list whole (a stable universe, the usual case): assets
  // pair up by position, no name is compared, and the output names that list too. Any asset
  // the general path would drop or note sends the bucket through that path instead, so both
  // give the same bytes and notes.
  const whole_view was = read_whole_view(*before_v);
  const whole_view now = read_whole_view(*w.back().v);
  if (was.list && now.list && *was.list == *now.list) {
    const f64_vector& p0 = *was.xs;
    const f64_vector& p1 = *now.xs;
    f64_vector values(p1.size());
    bool all = true;
    for (std::size_t i = 0; i < p1.size(); ++i) {
      values[i] = std::log(p1[i] / p0[i]);
      all = all && p0[i] > 0 && p1[i] > 0 && std::isfinite(values[i]);
    }
    if (all) {
      held_.reset();
      return asset_values_map(Value(*now.list), Value(std::move(values)));
    }
  }
  // The previous bucket's current payload is usually this one's previous: reuse its view
  // (held_ keeps that payload alive, so an equal address is the same payload).
  bool ok = true;
  if (held_ && held_.get() == before_v.get()) {
    std::swap(prev_, cur_);
  } else {
    ok = read_asset_view(*before_v, prev_);
  }
  held_.reset();
  if (!ok || !read_asset_view(*w.back().v, cur_)) {
    note("not_asset_values");
    return Value{};
  }
  held_ = w.back().v;
  std::vector<asset_entry> out;
  out.reserve(cur_.size());
  asset_cursor before(prev_);
  for (const auto& [asset, p1] : cur_) {
    const asset_entry* p0 = before.seek(asset);
    if (!p0) {
      note("no_previous_price");
      continue;
    }
    if (!(p0->x > 0) || !(p1 > 0)) {
      note("non_positive_price");
      continue;
    }
    const double r = std::log(p1 / p0->x);
    if (!std::isfinite(r)) {
      note("non_finite_result");
      continue;
    }
    out.push_back({asset, r});
  }
  return make_asset_values(out, w.back().v.get());
}

kind_info log_return_kind() {
  kind_info k;
  k.name = "log_return";
  k.summary = "r = ln(p_t / p_{t-1}) per asset";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.min_period = [](const value_map&) { return std::size_t{2}; };
  k.make = [](const value_map&, const kernel_context&) {
    return std::make_unique<log_return_kernel>();
  };
  return k;
}

}  // namespace shoal
