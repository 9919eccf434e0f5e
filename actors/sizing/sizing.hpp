#pragma once
// sizing (design §8): SizingFactors from the selector, dc_signal, posture, esof, acb,
// mc_forewarner and ob_features outputs of one bucket.
//
// The arithmetic is split from the kernel so that sizing_mirror (which rebuilds the same
// factors read-only from published topics, neutralizing missing ones) runs exactly the same
// code: read each surface with the read_* functions (nullopt = malformed), fill a
// sizing_inputs (neutral defaults for whatever the mirror neutralizes), call compute_sizing
// and to_value. Same inputs -> bit-identical size, since the product is evaluated in one
// fixed order in one place.

#include <optional>
#include <string>
#include <string_view>

#include "actors/core/kind_registry.hpp"

namespace shoal {

kind_info sizing_kind();

struct sizing_params {
  double base = 1.0;
  double max_size = 2.0;
};
// Reads {base, max_size} from normalized params.
sizing_params sizing_params_of(const value_map& normalized);

// What the size depends on. Defaults are the neutral values of design §8 (boost 1, beta 1,
// mc_scale 1, esof 0, ob 0/0); asset, direction, posture and dc_status have no neutral value.
struct sizing_inputs {
  std::string asset;
  std::string direction;  // "LONG" | "SHORT"
  std::string posture;    // "APEX" | "STALKER" | "TURTLE" | "HIBERNATE"
  double esof_score = 0.0;
  double boost = 1.0;
  double beta = 1.0;
  double mc_scale = 1.0;
  double ob_median_imbalance = 0.0;
  double ob_agreement_pct = 0.0;
  std::string dc_status;  // "CONFIRM" | "NEUTRAL" | "SKIP_CONTRADICT" | "INSUFFICIENT"
};

// SizingFactors: the inputs as published plus the size.
struct sizing_factors {
  sizing_inputs in;
  double size = 0.0;
};

// Multipliers. posture: APEX 1, STALKER 0.75, TURTLE 0.4, HIBERNATE 0 (nullopt for another
// name). dc: CONFIRM 1, NEUTRAL 0.5, anything else 0. ob: 0.5 + 0.5·agreement/100 when the
// median imbalance's sign favours the direction (< 0 for SHORT, > 0 for LONG), else 0.5.
std::optional<double> posture_multiplier(std::string_view posture);
double dc_multiplier(std::string_view dc_status);
double ob_multiplier(std::string_view direction, double median_imbalance, double agreement_pct);

// size = clamp(base · posture_mult · boost · beta · mc_scale · dc_mult · (1 + 0.1·esof) ·
// ob_mult, 0, max_size), multiplied left to right in that order. nullopt when the product is
// not finite (an unknown posture, or finite inputs overflowing): NaN never leaves a node.
std::optional<double> sizing_size(const sizing_inputs& in, const sizing_params& params);
std::optional<sizing_factors> compute_sizing(const sizing_inputs& in, const sizing_params& params);

// {asset, direction, posture, esof_score, boost, beta, mc_scale, ob_median_imbalance,
// ob_agreement_pct, dc_status, size}
Value to_value(const sizing_factors& f);

// Readers of the upstream payloads; nullopt when malformed (wrong type, missing field,
// non-finite number, unknown enum). Numbers accept ints where doubles are meant.
struct selection {
  std::string asset;
  std::string direction;
};
std::optional<selection> read_selection(const Value& v);  // asset_selector; nil -> nullopt
struct dc_reading {
  std::string asset, direction, status;
};
std::optional<dc_reading> read_dc(const Value& v);
std::optional<std::string> read_posture(const Value& v);  // validate_posture's schema
std::optional<double> read_esof_score(const Value& v);    // validate_esof's schema
struct acb_reading {
  double boost, beta;
};
std::optional<acb_reading> read_acb(const Value& v);  // validate_acb's schema
std::optional<double> read_mc_scale(const Value& v);  // validate_mc's schema
struct ob_reading {
  double median_imbalance, agreement_pct;  // agreement in [0, 100]
};
std::optional<ob_reading> read_ob(const Value& v);

// Ports: select, dc, posture, esof, acb, mc, ob (this order). A nil or malformed selector,
// a malformed other input, or a dc reading for another asset/direction gives nil and a note.
class sizing_kernel final : public kernel {
 public:
  explicit sizing_kernel(sizing_params p) : params_(p) {}
  Value compute(const kernel_input& in) override;

 private:
  sizing_params params_;
};

}  // namespace shoal
