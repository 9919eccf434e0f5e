#include "runtime/metrics/stage_latency.hpp"

#include <algorithm>
#include <limits>

namespace shoal {

std::string_view to_string(latency_stage s) {
  switch (s) {
    case latency_stage::ingest:
      return "ingest";
    case latency_stage::fire:
      return "fire";
    case latency_stage::encode:
      return "encode";
    case latency_stage::send:
      return "send";
  }
  return "?";
}

std::uint64_t latency_histogram::count() const {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

double latency_histogram::quantile_bound(double q) const {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    seen += counts[b];
    if (static_cast<double>(seen) >= q * static_cast<double>(n)) {
      return b < latency_bounds_s.size() ? latency_bounds_s[b]
                                         : std::numeric_limits<double>::infinity();
    }
  }
  return std::numeric_limits<double>::infinity();
}

void stage_latency::record_ns(latency_stage s, std::int64_t elapsed_ns) {
  elapsed_ns = std::max<std::int64_t>(elapsed_ns, 0);
  const double secs = static_cast<double>(elapsed_ns) / 1e9;
  const auto b = static_cast<std::size_t>(
      std::lower_bound(latency_bounds_s.begin(), latency_bounds_s.end(), secs) -
      latency_bounds_s.begin());
  auto& st = stages_[static_cast<std::size_t>(s)];
  st.counts[b].fetch_add(1, std::memory_order_relaxed);
  st.sum_ns.fetch_add(elapsed_ns, std::memory_order_relaxed);
}

latency_histogram stage_latency::snapshot(latency_stage s) const {
  const auto& st = stages_[static_cast<std::size_t>(s)];
  latency_histogram h;
  for (std::size_t b = 0; b < h.counts.size(); ++b)
    h.counts[b] = st.counts[b].load(std::memory_order_relaxed);
  h.sum_s = static_cast<double>(st.sum_ns.load(std::memory_order_relaxed)) / 1e9;
  return h;
}

}  // namespace shoal
