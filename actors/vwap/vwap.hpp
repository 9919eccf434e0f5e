#pragma once
#include <vector>

#include "actors/core/asset_view.hpp"
#include "actors/core/kind_registry.hpp"

namespace shoal {

// vwap{window=20}: per asset sum(p * q) / sum(q) over the last `window` slots of the `price`
// port (a vector {assets, values} or a scan), q from the `volume` port's slot of the same
// bucket. An asset needs a price > 0 and a volume >= 0 in every one of those slots; assets with
// a missing slot or sum(q) = 0 are left out (noted).
kind_info vwap_kind();

class vwap_kernel final : public kernel {
 public:
  explicit vwap_kernel(std::size_t window) : window_(window) {}
  Value compute(const kernel_input& in) override;

 private:
  std::size_t window_;
  // Scratch reused across buckets (not state).
  asset_ids ids_;  // shared by both ports' views
  view_cache prices_, volumes_;
  std::vector<double> p_, q_;                 // [asset id][slot]
  std::vector<std::size_t> p_seen_, q_seen_;  // slots holding the asset, by id
};

}  // namespace shoal
