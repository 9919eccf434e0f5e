#include "actors/dc_signal/dc_signal.hpp"

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

namespace shoal {

namespace {

// The first usable (finite, > 0) price of `asset` in a scan {assets, prices} (or a vector
// {assets, values}), matching read_asset_series' rules.
std::optional<double> price_of(const Value& scan, std::string_view asset) {
  const Value* assets = scan.find("assets");
  const Value* numbers = scan.find("prices");
  if (!numbers) numbers = scan.find("values");
  if (!assets || !assets->is_list() || !numbers) return std::nullopt;
  const auto& names = assets->as_list();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string() || names[i].as_string() != asset) continue;
    double x = NAN;
    if (numbers->is_f64_vector() && i < numbers->as_f64_vector().size())
      x = numbers->as_f64_vector()[i];
    else if (numbers->is_list() && i < numbers->as_list().size() &&
             numbers->as_list()[i].is_number())
      x = numbers->as_list()[i].as_number();
    if (std::isfinite(x) && x > 0) return x;
  }
  return std::nullopt;
}

Value result(Value asset, Value direction, Value change, const char* status) {
  return Value(value_map{{"asset", std::move(asset)},
                         {"direction", std::move(direction)},
                         {"change_bps", std::move(change)},
                         {"status", Value(status)}});
}

}  // namespace

Value dc_signal_kernel::compute(const kernel_input& in) {
  const slot_ring& sel = in.port(0);
  const slot_ring& scans = in.port(1);
  // Record this bucket's scan once: a bucket replayed after a restore must not enter twice.
  if (!scans.empty() && scans.back().t == in.bucket &&
      (history_.empty() || history_.back().bucket < in.bucket)) {
    history_.push_back({in.bucket, scans.back().v});
    while (history_.size() > lookback_ + 1) history_.pop_front();
  }

  const Value* s = sel.empty() || sel.back().t != in.bucket ? nullptr : sel.back().v.get();
  if (!s || s->is_nil()) {
    // The selector found no eligible asset: there is nothing to confirm.
    note("no_selection");
    return result(Value{}, Value{}, Value{}, "INSUFFICIENT");
  }
  const Value* asset = s->find("asset");
  const Value* direction = s->find("direction");
  if (!asset || !asset->is_string() || !direction || !direction->is_string() ||
      (direction->as_string() != "SHORT" && direction->as_string() != "LONG")) {
    note("invalid_selection");
    return result(Value{}, Value{}, Value{}, "INSUFFICIENT");
  }
  if (history_.size() < lookback_ + 1) {
    note("short_history");
    return result(*asset, *direction, Value{}, "INSUFFICIENT");
  }
  const auto p0 = price_of(*history_.front().scan, asset->as_string());
  const auto p1 = price_of(*history_.back().scan, asset->as_string());
  if (!p0 || !p1) {
    note("missing_price");
    return result(*asset, *direction, Value{}, "INSUFFICIENT");
  }
  const double change = (*p1 / *p0 - 1.0) * 1e4;
  if (!std::isfinite(change)) {
    note("non_finite_result");
    return result(*asset, *direction, Value{}, "INSUFFICIENT");
  }
  const bool is_short = direction->as_string() == "SHORT";
  // For LONG a rise confirms: mirror the change and use the SHORT rules.
  const double against = is_short ? change : -change;
  const char* status = against <= -confirm_     ? "CONFIRM"
                       : against >= contradict_ ? "SKIP_CONTRADICT"
                                                : "NEUTRAL";
  return result(*asset, *direction, Value(change), status);
}

// [{bucket: int, scan: payload}, ...] oldest first; the scans are kept verbatim, so a restore
// reproduces the prices exactly.
Value dc_signal_kernel::save_state() const {
  value_list out;
  for (const auto& h : history_)
    out.emplace_back(value_map{{"bucket", Value(h.bucket)}, {"scan", *h.scan}});
  return Value(std::move(out));
}

void dc_signal_kernel::restore_state(const Value& v) {
  history_.clear();
  if (v.is_nil()) return;
  if (!v.is_list()) throw std::invalid_argument("dc_signal: malformed checkpoint state");
  for (const auto& h : v.as_list()) {
    const Value* bucket = h.find("bucket");
    const Value* scan = h.find("scan");
    if (!bucket || !bucket->is_int() || !scan ||
        (!history_.empty() && history_.back().bucket >= bucket->as_int()))
      throw std::invalid_argument("dc_signal: malformed checkpoint state");
    history_.push_back({bucket->as_int(), make_value(*scan)});
  }
  while (history_.size() > lookback_ + 1) history_.pop_front();
}

kind_info dc_signal_kind() {
  kind_info k;
  k.steady_outputs = true;  // a direction holds while its trend does
  k.name = "dc_signal";
  k.ports = {"select", "scan"};
  k.summary = "confirms the selected asset's direction by its price change over `lookback` scans";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("lookback", 7, 1, 100'000);
    r.get_double("confirm_bps", 2.0, 0.0, 1e6);
    r.get_double("contradict_bps", 5.0, 0.0, 1e6);
    return r.finish();
  };
  // It keeps the last lookback + 1 scans itself.
  k.warm_history = [](const value_map& p, std::int64_t, std::size_t period) {
    return std::optional<std::size_t>(period + static_cast<std::size_t>(p.at("lookback").as_int()));
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<dc_signal_kernel>(static_cast<std::size_t>(p.at("lookback").as_int()),
                                              p.at("confirm_bps").as_double(),
                                              p.at("contradict_bps").as_double());
  };
  return k;
}

}  // namespace shoal
