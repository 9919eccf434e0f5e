#include "actors/sizing/sizing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "messages/decode_error.hpp"
#include "messages/payloads.hpp"

namespace shoal {

namespace {
std::optional<double> finite_number(const Value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  const double x = v->as_number();
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}
const std::string* string_field(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f && f->is_string() ? &f->as_string() : nullptr;
}
bool is_direction(std::string_view d) { return d == "LONG" || d == "SHORT"; }
bool is_dc_status(std::string_view s) {
  return s == "CONFIRM" || s == "NEUTRAL" || s == "SKIP_CONTRADICT" || s == "INSUFFICIENT";
}
// Runs a payloads.hpp validator; false when it rejects the payload.
template <class F>
bool valid(F validate, const Value& v) {
  try {
    validate(v);
    return true;
  } catch (const decode_error&) {
    return false;
  }
}
}  // namespace

sizing_params sizing_params_of(const value_map& p) {
  return {p.at("base").as_number(), p.at("max_size").as_number()};
}

std::optional<double> posture_multiplier(std::string_view posture) {
  if (posture == "APEX") return 1.0;
  if (posture == "STALKER") return 0.75;
  if (posture == "TURTLE") return 0.4;
  if (posture == "HIBERNATE") return 0.0;
  return std::nullopt;
}

double dc_multiplier(std::string_view dc_status) {
  if (dc_status == "CONFIRM") return 1.0;
  if (dc_status == "NEUTRAL") return 0.5;
  return 0.0;
}

double ob_multiplier(std::string_view direction, double median_imbalance, double agreement_pct) {
  const bool favours = (direction == "SHORT" && median_imbalance < 0) ||
                       (direction == "LONG" && median_imbalance > 0);
  return favours ? 0.5 + 0.5 * agreement_pct / 100.0 : 0.5;
}

std::optional<double> sizing_size(const sizing_inputs& in, const sizing_params& params) {
  const auto pm = posture_multiplier(in.posture);
  if (!pm) return std::nullopt;
  const double raw = params.base * *pm * in.boost * in.beta * in.mc_scale *
                     dc_multiplier(in.dc_status) * (1.0 + 0.1 * in.esof_score) *
                     ob_multiplier(in.direction, in.ob_median_imbalance, in.ob_agreement_pct);
  if (!std::isfinite(raw)) return std::nullopt;
  return std::clamp(raw, 0.0, params.max_size);
}

std::optional<sizing_factors> compute_sizing(const sizing_inputs& in, const sizing_params& params) {
  const auto size = sizing_size(in, params);
  if (!size) return std::nullopt;
  return sizing_factors{in, *size};
}

Value to_value(const sizing_factors& f) {
  return Value(value_map{{"asset", Value(f.in.asset)},
                         {"direction", Value(f.in.direction)},
                         {"posture", Value(f.in.posture)},
                         {"esof_score", Value(f.in.esof_score)},
                         {"boost", Value(f.in.boost)},
                         {"beta", Value(f.in.beta)},
                         {"mc_scale", Value(f.in.mc_scale)},
                         {"ob_median_imbalance", Value(f.in.ob_median_imbalance)},
                         {"ob_agreement_pct", Value(f.in.ob_agreement_pct)},
                         {"dc_status", Value(f.in.dc_status)},
                         {"size", Value(f.size)}});
}

std::optional<selection> read_selection(const Value& v) {
  const std::string* asset = string_field(v, "asset");
  const std::string* direction = string_field(v, "direction");
  if (!asset || !direction || !is_direction(*direction)) return std::nullopt;
  return selection{*asset, *direction};
}

std::optional<dc_reading> read_dc(const Value& v) {
  const std::string* asset = string_field(v, "asset");
  const std::string* direction = string_field(v, "direction");
  const std::string* status = string_field(v, "status");
  if (!asset || !direction || !status || !is_direction(*direction) || !is_dc_status(*status))
    return std::nullopt;
  return dc_reading{*asset, *direction, *status};
}

std::optional<std::string> read_posture(const Value& v) {
  if (!valid(validate_posture, v)) return std::nullopt;
  return v.find("posture")->as_string();
}

std::optional<double> read_esof_score(const Value& v) {
  if (!valid(validate_esof, v)) return std::nullopt;
  return v.find("score")->as_number();
}

std::optional<acb_reading> read_acb(const Value& v) {
  if (!valid(validate_acb, v)) return std::nullopt;
  return acb_reading{v.find("boost")->as_number(), v.find("beta")->as_number()};
}

std::optional<double> read_mc_scale(const Value& v) {
  if (!valid(validate_mc, v)) return std::nullopt;
  return v.find("scale")->as_number();
}

std::optional<ob_reading> read_ob(const Value& v) {
  const auto median = finite_number(v.find("median_imbalance"));
  const auto agreement = finite_number(v.find("agreement_pct"));
  if (!median || !agreement || *agreement < 0 || *agreement > 100) return std::nullopt;
  return ob_reading{*median, *agreement};
}

Value sizing_kernel::compute(const kernel_input& in) {
  auto latest = [&](std::size_t port) -> const Value& { return *in.port(port).back().v; };
  const Value& sel_v = latest(0);
  if (sel_v.is_nil()) {  // the selector found nothing to trade this bucket
    note("no_selection");
    return Value{};
  }
  const auto sel = read_selection(sel_v);
  const auto dc = read_dc(latest(1));
  const auto posture = read_posture(latest(2));
  const auto esof = read_esof_score(latest(3));
  const auto acb = read_acb(latest(4));
  const auto mc = read_mc_scale(latest(5));
  const auto ob = read_ob(latest(6));
  // Every input comes from this engine's own nodes, so a malformed one is a wiring or kind
  // bug: withhold and count by port rather than size on a guess.
  const char* bad = !sel       ? "malformed_select"
                    : !dc      ? "malformed_dc"
                    : !posture ? "malformed_posture"
                    : !esof    ? "malformed_esof"
                    : !acb     ? "malformed_acb"
                    : !mc      ? "malformed_mc"
                    : !ob      ? "malformed_ob"
                               : nullptr;
  if (bad) {
    note(bad);
    return Value{};
  }
  if (dc->asset != sel->asset || dc->direction != sel->direction) {
    note("dc_mismatch");
    return Value{};
  }
  sizing_inputs si;
  si.asset = sel->asset;
  si.direction = sel->direction;
  si.posture = *posture;
  si.esof_score = *esof;
  si.boost = acb->boost;
  si.beta = acb->beta;
  si.mc_scale = *mc;
  si.ob_median_imbalance = ob->median_imbalance;
  si.ob_agreement_pct = ob->agreement_pct;
  si.dc_status = dc->status;
  const auto f = compute_sizing(si, params_);
  if (!f) {
    note("non_finite_result");
    return Value{};
  }
  return to_value(*f);
}

kind_info sizing_kind() {
  kind_info k;
  k.steady_outputs = true;  // sizes sit at their caps
  k.name = "sizing";
  k.ports = {"select", "dc", "posture", "esof", "acb", "mc", "ob"};
  k.summary = "SizingFactors: position size from selection, dc, posture, esof, acb, mc, ob";
  k.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_double("base", 1.0, 0.0, std::numeric_limits<double>::max());
    r.get_double("max_size", 2.0, 0.0, std::numeric_limits<double>::max());
    return r.finish();
  };
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<sizing_kernel>(sizing_params_of(p));
  };
  return k;
}

}  // namespace shoal
