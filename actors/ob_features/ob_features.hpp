#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// ob_features{levels=5, max_age="60s", eps=0.01} on a keyed order-book stream (bucket value:
// asset -> latest book {asset, bid_px, bid_qty, ask_px, ask_qty}, best level first).
// Per asset imb = (sum bid_qty - sum ask_qty) / (sum bid_qty + sum ask_qty) over the top
// `levels` levels. The kernel remembers each asset's last imbalance and the bucket it came
// from, so an asset without a new book still counts while that bucket is <= max_age old.
// Output {median_imbalance, agreement_pct, n_assets, imbalance: {assets, values}} over those
// assets; see docs/kinds.md (ob_features) for the edge cases.
kind_info ob_features_kind();

class ob_features_kernel final : public kernel {
 public:
  ob_features_kernel(std::size_t levels, std::int64_t max_age_ns, double eps)
      : levels_(levels), max_age_(max_age_ns), eps_(eps) {}
  Value compute(const kernel_input& in) override;
  Value save_state() const override;
  void restore_state(const Value& v) override;

 private:
  struct snapshot {
    double imbalance;
    std::int64_t bucket;
  };
  using state_map = std::map<std::string, snapshot, std::less<>>;
  // Applies one asset's book to the state. `at` is last_.lower_bound(asset) on entry and
  // the position after the asset on return, so a bucket's books (in name order) update the
  // state in one merge pass instead of a tree search each.
  void update(const std::string& asset, const Value& book, std::int64_t bucket,
              state_map::iterator& at);

  std::size_t levels_;
  std::int64_t max_age_;
  double eps_;
  state_map last_;              // state: asset -> last imbalance
  std::vector<double> sorted_;  // scratch
};

}  // namespace shoal
