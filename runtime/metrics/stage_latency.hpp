#pragma once
// stage_latency: where the live path spends its time, as histograms of the time from a frame's
// receipt by its source to the end of each stage an input passes on its way out:
//
//   ingest  decoded, checked, queued for the journal and handed to its stream node
//   fire    a node starts computing a bucket that this input closed (every node on the path)
//   encode  that node's output is encoded (once; the same bytes go everywhere)
//   send    the publisher has handed the frame to the PUB socket
//
// The receipt time travels with the input through the node messages (0 where there is none:
// replay, warm starts, checkpointed state), so a stage's figure includes every mailbox it waited
// in. Steady-clock time only feeds these counters, never a result. Thread-safe: sources, node
// actors and the publisher thread record concurrently (relaxed atomics; a scrape may see one
// stage's counts a few frames ahead of another's).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace shoal {

enum class latency_stage : std::uint8_t { ingest, fire, encode, send };
inline constexpr std::array<latency_stage, 4> all_latency_stages{
    latency_stage::ingest, latency_stage::fire, latency_stage::encode, latency_stage::send};
std::string_view to_string(latency_stage s);

// Upper bounds (seconds) of the histogram buckets, from one raw ZeroMQ hop (tens of µs) to a
// stalled path (a second); the last bucket is +Inf.
inline constexpr std::array<double, 16> latency_bounds_s{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4,
                                                         5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
                                                         5e-2, 0.1,  0.25,   1.0};

struct latency_histogram {
  std::array<std::uint64_t, latency_bounds_s.size() + 1> counts{};  // per bucket, not cumulative
  double sum_s = 0;
  std::uint64_t count() const;
  // The bucket bound below which at least q of the samples fall (+Inf past the last bound).
  double quantile_bound(double q) const;
};

class stage_latency {
 public:
  // Steady-clock ns: what a source stamps on a frame it has just received.
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Records now - received_ns under the stage; received_ns == 0 (no receipt) records nothing.
  void record(latency_stage s, std::int64_t received_ns) {
    if (received_ns != 0) record_ns(s, now_ns() - received_ns);
  }
  void record_ns(latency_stage s, std::int64_t elapsed_ns);
  latency_histogram snapshot(latency_stage s) const;

 private:
  struct stage {
    std::array<std::atomic<std::uint64_t>, latency_bounds_s.size() + 1> counts{};
    std::atomic<std::int64_t> sum_ns{0};
  };
  std::array<stage, all_latency_stages.size()> stages_;
};

}  // namespace shoal
