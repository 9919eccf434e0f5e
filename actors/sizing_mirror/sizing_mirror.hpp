#pragma once
// sizing_mirror: the SizingFactors of `sizing`, rebuilt read-only from what a primary engine
// publishes (design §8). Ports as sizing's: select and dc come from the mirror's own
// asset_selector and dc_signal over the primary's scans; posture, esof, acb, mc and ob are the
// primary's surfaces (ob from the mirror's own ob_features over the primary's books) and are
// optional: a missing or malformed esof/acb/mc/ob becomes neutral (esof 0, boost 1, beta 1,
// mc_scale 1, ob 0/0) and is listed in `neutralized`; a missing or malformed posture withholds
// the step (counted). With every surface clean the value is byte-identical to the primary's
// sizing value (`neutralized` is only present when non-empty).

#include "actors/core/kind_registry.hpp"
#include "actors/sizing/sizing.hpp"

namespace shoal {

kind_info sizing_mirror_kind();

class sizing_mirror_kernel final : public kernel {
 public:
  explicit sizing_mirror_kernel(sizing_params p) : params_(p) {}
  Value compute(const kernel_input& in) override;

 private:
  sizing_params params_;
};

}  // namespace shoal
