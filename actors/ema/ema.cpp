#include "actors/ema/ema.hpp"

#include <cmath>

#include "messages/payloads.hpp"

namespace shoal {

Value ema_kernel::compute(const kernel_input& in) {
  const Value& input = *in.port(0).back().v;
  // The input names the same shared list as last time, all of it: each asset's state is at
  // the address found then (map nodes do not move), so no name is compared.
  const whole_view whole = read_whole_view(input);
  if (whole.list && *whole.list == list_) {
    const f64_vector& xs = *whole.xs;
    f64_vector values(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      double& s = *slots_[i];
      s = alpha_ * xs[i] + (1.0 - alpha_) * s;
      values[i] = s;
    }
    return asset_values_map(Value(list_), Value(std::move(values)));
  }
  list_.reset();
  if (!read_asset_view(input, cur_)) {
    note("not_asset_values");
    return Value{};
  }
  std::vector<asset_entry> out;
  out.reserve(cur_.size());
  // cur_ and state_ are both in name order: one forward walk finds every asset's state (a
  // lookup per asset cost more than the arithmetic).
  auto it = state_.begin();
  for (const auto& [asset, x] : cur_) {
    if (!std::isfinite(x)) {
      note("non_finite_input");
      continue;
    }
    while (it != state_.end() && it->first < asset) ++it;
    bool inserted = false;
    if (it == state_.end() || it->first != asset) {
      const std::size_t before = state_.size();
      it = state_.emplace_hint(it, std::string(asset), x);
      // Names out of order would have walked past an existing state: the hint then returns
      // it instead of inserting, and it is updated as a lookup would have.
      inserted = state_.size() != before;
    }
    if (!inserted) it->second = alpha_ * x + (1.0 - alpha_) * it->second;
    out.push_back({asset, it->second});
  }
  if (whole.list) {  // every asset now has a state: remember where, for the next bucket
    slots_.clear();
    for (const auto& [asset, x] : cur_) {
      slots_.push_back(&state_.find(asset)->second);
    }
    list_ = *whole.list;
  }
  return make_asset_values(out, &input);
}

Value ema_kernel::save_state() const { return make_asset_values(state_); }

void ema_kernel::restore_state(const Value& v) {
  list_.reset();
  state_.clear();
  if (!v.is_nil()) read_asset_values(v, state_);
}

kind_info ema_kind() {
  kind_info k;
  k.name = "ema";
  k.summary = "exponential moving average per asset, alpha = 2/(span+1)";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("span", 10, 1, 1'000'000);
    return r.finish();
  };
  // ema_t depends on every earlier value.
  k.warm_history = [](const value_map&, std::int64_t, std::size_t) {
    return std::optional<std::size_t>();
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<ema_kernel>(p.at("span").as_int());
  };
  return k;
}

}  // namespace shoal
