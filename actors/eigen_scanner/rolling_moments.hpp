#pragma once
// rolling_moments: running sums of a fixed asset set's log returns and of their pairwise
// products over a sliding window of rows, so a W-row correlation matrix costs O(n²) per bucket
// instead of O(W·n²).
//
// Numerics: each asset's returns are summed minus a shift (its window mean at the last
// rebuild), so the products stay centred and Σxy − ΣxΣy/W does not cancel catastrophically
// when a mean is large next to the spread. Adding and removing rows lets rounding drift, so
// the owner rebuilds from the window at least every W steps (and whenever the set changes).
//
// The sums are kernel state outside the window (the rows that left are gone), which is why
// they are checkpointed bit for bit: save() / restore().

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "actors/eigen_scanner/scan_window.hpp"
#include "messages/value.hpp"

namespace shoal {

class rolling_moments {
 public:
  bool valid() const { return !ids_.empty(); }
  void clear();

  // Starts over with `ids` (name order) from the returns of entries [first, last) of win.
  void rebuild(std::vector<std::uint32_t> ids, const scan_window& win, std::size_t first,
               std::size_t last);
  // Adds / removes one row: the entry's return for every asset of the set (all must be
  // finite, which the caller guarantees by choosing assets priced throughout the window).
  void add(const scan_entry& e) {
    update(e, +1);
    ++rows_;
    ++steps_;
  }
  void remove(const scan_entry& e) {
    update(e, -1);
    --rows_;
  }

  // Σ (r − mean)² of the set's i-th asset over the rows (rounding may leave it ≤ 0 when the
  // true value is 0).
  double centered_ss(std::size_t i) const;
  // Pearson correlation of the set's assets at `keep` (indices into ids()), each with a
  // positive centered_ss: c_ab = m_ab · (1/√m_aa) · (1/√m_bb), clipped to [−1, 1] like
  // numpy.corrcoef, diagonal exactly 1.
  void correlation(const std::vector<std::size_t>& keep, Eigen::MatrixXd& out) const;

  const std::vector<std::uint32_t>& ids() const { return ids_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t steps() const { return steps_; }    // adds since the last rebuild
  std::int64_t last_t() const { return last_t_; }  // bucket of the newest row's scan
  void set_last_t(std::int64_t t) { last_t_ = t; }

  // {assets: [names], shift, sum, cross: f64 (upper triangle, row-major), rows, steps,
  // last_t}; nil when not valid. restore() returns false (and clears) on any mismatch.
  Value save(const scanner_asset_ids& names) const;
  bool restore(const Value& v, scanner_asset_ids& names);

 private:
  void update(const scan_entry& e, double sign);
  double product(std::size_t a, std::size_t b) const;  // Σ x_a x_b (shifted), a <= b

  std::vector<std::uint32_t> ids_;
  std::vector<double> shift_;
  std::vector<double> sum_;    // Σ (r − shift)
  std::vector<double> cross_;  // Σ (r_a − shift_a)(r_b − shift_b), packed upper triangle
  std::vector<std::size_t> row_start_;                        // packed index of (a, a)
  std::vector<double> row_;                                   // scratch: one shifted row
  mutable std::vector<double> inverse_sd_, mean_, gathered_;  // scratch for correlation()
  std::int64_t rows_ = 0;
  std::int64_t steps_ = 0;
  std::int64_t last_t_ = 0;
};

}  // namespace shoal
