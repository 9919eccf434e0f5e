#include "actors/esof/esof.hpp"

#include <algorithm>
#include <cmath>

namespace shoal {

namespace {
// Floor division: C++ truncates toward zero, which would put 1969-12-31 23:59 in day 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
constexpr std::int64_t ns_per_minute = 60'000'000'000;
constexpr std::int64_t minutes_per_day = 1440;
}  // namespace

esof_calendar esof_calendar_of(std::int64_t t_ns) {
  const std::int64_t minutes = floor_div(t_ns, ns_per_minute);
  const std::int64_t day = floor_div(minutes, minutes_per_day);
  // 1970-01-01 was a Thursday (weekday 3).
  return {minutes - day * minutes_per_day, ((day + 3) % 7 + 7) % 7};
}

double esof_score(std::int64_t t_ns) {
  const esof_calendar c = esof_calendar_of(t_ns);
  // Evaluated left to right exactly as written in the design (and in tests/reference/esof.py).
  const double raw = 0.6 * std::sin(2.0 * M_PI * static_cast<double>(c.minute_of_day) / 1440.0) +
                     0.4 * std::cos(2.0 * M_PI * static_cast<double>(c.weekday) / 7.0);
  return std::clamp(raw, -1.0, 1.0);
}

const char* esof_label(double score) {
  if (score >= 0.3) return "FAVORABLE";
  if (score <= -0.3) return "UNFAVORABLE";
  return "NEUTRAL";
}

Value esof_kernel::compute(const kernel_input& in) {
  const double score = esof_score(in.bucket);
  return Value(value_map{{"score", Value(score)}, {"label", Value(esof_label(score))}});
}

kind_info esof_kind() {
  kind_info k;
  k.steady_outputs = true;  // a calendar-driven score holds for hours
  k.name = "esof";
  k.summary = "calendar score of the bucket's UTC time (minute of day, weekday) and its label";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.make = [](const value_map&, const kernel_context&) { return std::make_unique<esof_kernel>(); };
  return k;
}

}  // namespace shoal
