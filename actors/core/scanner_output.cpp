#include "actors/core/scanner_output.hpp"

#include <cmath>

namespace shoal {

namespace {
std::optional<double> finite(const Value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  const double x = v->as_number();
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}
}  // namespace

std::size_t numeric_array_size(const Value& v) {
  if (v.is_f64_vector()) return v.as_f64_vector().size();
  if (v.is_list()) return v.as_list().size();
  return 0;
}

std::optional<double> numeric_element(const Value& v, std::size_t i) {
  if (v.is_f64_vector()) {
    const auto& xs = v.as_f64_vector();
    if (i < xs.size()) return xs[i];
    return std::nullopt;
  }
  if (v.is_list()) {
    const auto& xs = v.as_list();
    if (i < xs.size() && xs[i].is_number()) return xs[i].as_number();
  }
  return std::nullopt;
}

std::optional<double> scanner_mean_return(const Value& scanner_output) {
  return finite(scanner_output.find("mean_return"));
}

}  // namespace shoal
