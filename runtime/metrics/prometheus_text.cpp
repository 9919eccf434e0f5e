#include "runtime/metrics/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace shoal {

std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

void prometheus_text::family(std::string_view name, std::string_view type, std::string_view help) {
  o_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void prometheus_text::write_double(double v) {
  if (std::isnan(v)) {
    o_ << "NaN";
  } else if (std::isinf(v)) {
    o_ << (v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    o_ << std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
  }
}

void prometheus_text::write_labels(const metric_labels& labels) {
  if (labels.empty()) return;
  o_ << '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) o_ << ',';
    first = false;
    o_ << key << "=\"" << escape_label_value(value) << '"';
  }
  o_ << '}';
}

void prometheus_text::histogram_of(std::string_view name, const metric_labels& labels,
                                   const std::vector<double>& bounds,
                                   const std::vector<std::uint64_t>& counts, double sum) {
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    cumulative += counts[b];
    metric_labels with_le = labels;
    std::ostringstream le;
    if (b < bounds.size()) {
      le << bounds[b];
    } else {
      le << "+Inf";
    }
    with_le.emplace_back("le", le.str());
    sample(std::string(name) + "_bucket", with_le, cumulative);
  }
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace shoal
