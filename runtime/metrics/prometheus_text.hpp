#pragma once
// prometheus_text: writes the Prometheus text exposition format (version 0.0.4): a family's
// HELP and TYPE lines, samples with escaped label values, histograms from per-bucket counts.
// What the engine reports is gathered elsewhere (runtime/engine/engine_metrics.cpp).

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace shoal {

using metric_labels = std::vector<std::pair<std::string_view, std::string>>;

class prometheus_text {
 public:
  // "# HELP name help" and "# TYPE name type" (counter, gauge, histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);

  template <class T>
  void sample(std::string_view name, const metric_labels& labels, T value) {
    o_ << name;
    write_labels(labels);
    o_ << ' ';
    if constexpr (std::is_floating_point_v<T>) {
      write_double(static_cast<double>(value));
    } else {
      o_ << value;
    }
    o_ << '\n';
  }

  // name_bucket{labels…,le="bound"} cumulative counts (counts has one more entry than bounds:
  // the +Inf bucket), then name_sum and name_count.
  template <class Bounds, class Counts>
  void histogram(std::string_view name, const metric_labels& labels, const Bounds& bounds,
                 const Counts& counts, double sum) {
    histogram_of(name, labels, std::vector<double>(bounds.begin(), bounds.end()),
                 std::vector<std::uint64_t>(counts.begin(), counts.end()), sum);
  }

  std::string str() const { return o_.str(); }

 private:
  void write_labels(const metric_labels& labels);
  // Shortest text that reads back as the same double (a timestamp in seconds keeps its
  // nanoseconds' worth of digits); NaN, +Inf and -Inf as the format spells them.
  void write_double(double v);
  void histogram_of(std::string_view name, const metric_labels& labels,
                    const std::vector<double>& bounds, const std::vector<std::uint64_t>& counts,
                    double sum);
  std::ostringstream o_;
};

// A label value escaped as the format requires: backslash, double quote and newline.
std::string escape_label_value(std::string_view s);

}  // namespace shoal
