#include "actors/eigen_scanner/rolling_moments.hpp"

#include <algorithm>
#include <cmath>

#include "actors/core/cpu_features.hpp"
#include "actors/eigen_scanner/moment_lanes.hpp"

namespace shoal {

namespace {

// Packed upper-triangle offsets: row a starts at a·n − a(a−1)/2.
std::vector<std::size_t> packed_rows(std::size_t n) {
  std::vector<std::size_t> start(n);
  std::size_t k = 0;
  for (std::size_t a = 0; a < n; ++a) {
    start[a] = k;
    k += n - a;
  }
  return start;
}

// A numeric array as doubles: an f64_vector, or a list of numbers (what an empty or mixed
// array decodes to).
bool read_doubles(const Value* v, std::vector<double>& out) {
  out.clear();
  if (!v) return false;
  if (v->is_f64_vector()) {
    out = v->as_f64_vector();
    return true;
  }
  if (!v->is_list()) return false;
  for (const auto& x : v->as_list()) {
    if (!x.is_number()) return false;
    out.push_back(x.as_number());
  }
  return true;
}

bool read_int(const Value* v, std::int64_t& out) {
  if (!v || !v->is_int()) return false;
  out = v->as_int();
  return true;
}

}  // namespace

void rolling_moments::clear() {
  ids_.clear();
  shift_.clear();
  sum_.clear();
  cross_.clear();
  row_start_.clear();
  rows_ = steps_ = last_t_ = 0;
}

void rolling_moments::rebuild(std::vector<std::uint32_t> ids, const scan_window& win,
                              std::size_t first, std::size_t last) {
  ids_ = std::move(ids);
  const std::size_t n = ids_.size();
  row_start_ = packed_rows(n);
  rows_ = static_cast<std::int64_t>(last - first);
  steps_ = 0;
  shift_.assign(n, 0.0);
  for (std::size_t p = first; p < last; ++p)
    for (std::size_t a = 0; a < n; ++a) shift_[a] += win[p].ret_of(ids_[a]);
  for (auto& s : shift_) s /= static_cast<double>(rows_);
  sum_.assign(n, 0.0);
  cross_.assign(n * (n + 1) / 2, 0.0);
  for (std::size_t p = first; p < last; ++p) update(win[p], +1);
}

void rolling_moments::update(const scan_entry& e, double sign) {
  const std::size_t n = ids_.size();
  row_.resize(n);
  for (std::size_t a = 0; a < n; ++a) row_[a] = e.ret_of(ids_[a]) - shift_[a];
  double* c = cross_.data();
  const bool avx = cpu_has_avx();
  for (std::size_t a = 0; a < n; ++a) {
    const double xa = row_[a];
    sum_[a] += sign * xa;
    const double sxa = sign * xa;
    // Row a of the packed triangle: Σ x_a x_b for b >= a.
    add_scaled(c, sxa, &row_[a], n - a, avx);
    c += n - a;
  }
}

double rolling_moments::product(std::size_t a, std::size_t b) const {
  return cross_[row_start_[a] + (b - a)];
}

double rolling_moments::centered_ss(std::size_t i) const {
  return product(i, i) - sum_[i] * sum_[i] / static_cast<double>(rows_);
}

void rolling_moments::correlation(const std::vector<std::size_t>& keep,
                                  Eigen::MatrixXd& out) const {
  const auto k = static_cast<Eigen::Index>(keep.size());
  const double rows = static_cast<double>(rows_);
  // Reciprocals once per asset: a division per entry cost more than the rest of the matrix.
  inverse_sd_.resize(keep.size());
  mean_.resize(keep.size());
  for (std::size_t i = 0; i < keep.size(); ++i) {
    inverse_sd_[i] = 1.0 / std::sqrt(centered_ss(keep[i]));
    mean_[i] = sum_[keep[i]] / rows;
  }
  out.resize(k, k);
  // Column i below the diagonal is contiguous (column-major): computed there, then mirrored.
  const bool all = keep.size() == ids_.size();  // keep is then 0, 1, ..., n − 1
  const bool avx = cpu_has_avx();
  for (Eigen::Index i = 0; i < k; ++i) {
    const auto ui = static_cast<std::size_t>(i);
    const std::size_t a = keep[ui];
    const double* cross_a = &cross_[row_start_[a] - a];  // cross_a[b] = Σ x_a x_b for b >= a
    const std::size_t m = keep.size() - ui - 1;          // entries j = i + 1, ..., k − 1
    const double* cross = cross_a + a + 1;
    if (!all) {
      gathered_.resize(m);
      for (std::size_t j = 0; j < m; ++j) gathered_[j] = cross_a[keep[ui + 1 + j]];
      cross = gathered_.data();
    }
    double* column = &out(i, i);
    *column = 1.0;
    correlations(cross, sum_[a], mean_.data() + ui + 1, inverse_sd_[ui],
                 inverse_sd_.data() + ui + 1, m, column + 1, avx);
  }
  for (Eigen::Index i = 0; i < k; ++i) {
    for (Eigen::Index j = i + 1; j < k; ++j) out(i, j) = out(j, i);
  }
}

Value rolling_moments::save(const scanner_asset_ids& names) const {
  if (!valid()) return Value{};
  value_list assets;
  for (auto id : ids_) assets.emplace_back(names.name(id));
  return Value(value_map{{"assets", Value(std::move(assets))},
                         {"shift", Value(shift_)},
                         {"sum", Value(sum_)},
                         {"cross", Value(cross_)},
                         {"rows", Value(rows_)},
                         {"steps", Value(steps_)},
                         {"last_t", Value(last_t_)}});
}

bool rolling_moments::restore(const Value& v, scanner_asset_ids& names) {
  clear();
  if (v.is_nil()) return true;
  const Value* assets = v.find("assets");
  if (!assets || !assets->is_list() || assets->as_list().empty()) return false;
  std::vector<std::uint32_t> ids;
  for (const auto& a : assets->as_list()) {
    if (!a.is_string()) return false;
    ids.push_back(names.intern(a.as_string()));
  }
  const std::size_t n = ids.size();
  std::vector<double> shift, sum, cross;
  std::int64_t rows = 0, steps = 0, last_t = 0;
  if (!read_doubles(v.find("shift"), shift) || !read_doubles(v.find("sum"), sum) ||
      !read_doubles(v.find("cross"), cross) || !read_int(v.find("rows"), rows) ||
      !read_int(v.find("steps"), steps) || !read_int(v.find("last_t"), last_t))
    return false;
  if (shift.size() != n || sum.size() != n || cross.size() != n * (n + 1) / 2 || rows < 1)
    return false;
  ids_ = std::move(ids);
  shift_ = std::move(shift);
  sum_ = std::move(sum);
  cross_ = std::move(cross);
  row_start_ = packed_rows(n);
  rows_ = rows;
  steps_ = steps;
  last_t_ = last_t;
  return true;
}

}  // namespace shoal
