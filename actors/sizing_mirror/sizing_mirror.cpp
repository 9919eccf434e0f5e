#include "actors/sizing_mirror/sizing_mirror.hpp"

namespace shoal {

Value sizing_mirror_kernel::compute(const kernel_input& in) {
  enum port { select, dc, posture, esof, acb, mc, ob };
  // A surface's value in this bucket, or null when the primary sent none (or it was rejected).
  auto latest = [&](std::size_t p) -> const Value* {
    return has_value(in, p) ? in.port(p).back().v.get() : nullptr;
  };
  const Value* sel_v = latest(select);
  if (!sel_v || sel_v->is_nil()) {  // as sizing: nothing selected, nothing to size
    note("no_selection");
    return Value{};
  }
  const auto sel = read_selection(*sel_v);
  const auto dcr = latest(dc) ? read_dc(*latest(dc)) : std::nullopt;
  if (!sel || !dcr) {
    note(!sel ? "malformed_select" : "malformed_dc");
    return Value{};
  }
  if (dcr->asset != sel->asset || dcr->direction != sel->direction) {
    note("dc_mismatch");
    return Value{};
  }
  const auto pos = latest(posture) ? read_posture(*latest(posture)) : std::nullopt;
  if (!pos) {
    withhold(latest(posture) ? "posture_malformed" : "posture_missing");
    return Value{};
  }

  sizing_inputs si;  // defaults are the neutral values
  si.asset = sel->asset;
  si.direction = sel->direction;
  si.posture = *pos;
  si.dc_status = dcr->status;
  value_list neutralized;
  if (auto v = latest(esof) ? read_esof_score(*latest(esof)) : std::nullopt)
    si.esof_score = *v;
  else
    neutralized.emplace_back("esof");
  if (auto v = latest(acb) ? read_acb(*latest(acb)) : std::nullopt) {
    si.boost = v->boost;
    si.beta = v->beta;
  } else {
    neutralized.emplace_back("acb");
  }
  if (auto v = latest(mc) ? read_mc_scale(*latest(mc)) : std::nullopt)
    si.mc_scale = *v;
  else
    neutralized.emplace_back("mc");
  if (auto v = latest(ob) ? read_ob(*latest(ob)) : std::nullopt) {
    si.ob_median_imbalance = v->median_imbalance;
    si.ob_agreement_pct = v->agreement_pct;
  } else {
    neutralized.emplace_back("ob");
  }
  for (const auto& f : neutralized) note("neutralized_" + f.as_string());

  const auto f = compute_sizing(si, params_);
  if (!f) {
    note("non_finite_result");
    return Value{};
  }
  Value out = to_value(*f);
  if (!neutralized.empty()) out.as_map().emplace("neutralized", Value(std::move(neutralized)));
  return out;
}

kind_info sizing_mirror_kind() {
  kind_info k = sizing_kind();
  k.name = "sizing_mirror";
  k.version = 1;
  k.summary = "sizing factors rebuilt read-only from a primary engine's published surfaces";
  k.optional_ports = {"posture", "esof", "acb", "mc", "ob"};
  k.make = [](const value_map& p, const kernel_context&) {
    return std::make_unique<sizing_mirror_kernel>(sizing_params_of(p));
  };
  return k;
}

}  // namespace shoal
