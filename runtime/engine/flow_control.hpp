#pragma once
// flow_control: counts messages in flight between actors (sent, not yet handled). Replay waits
// while too many are in flight, so no mailbox grows without bound however fast the journal is
// read; checkpoints and shutdown wait for zero, so they see a quiet graph.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace shoal {

class flow_control {
 public:
  void sent(std::int64_t n = 1) { inflight_.fetch_add(n, std::memory_order_relaxed); }
  void handled() { inflight_.fetch_sub(1, std::memory_order_acq_rel); }
  std::int64_t inflight() const { return inflight_.load(std::memory_order_acquire); }

  // Blocks while more than `limit` messages are in flight.
  void wait_below(std::int64_t limit) const {
    for (int spins = 0; inflight() > limit; ++spins) {
      if (spins < 64)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  void wait_idle() const { wait_below(0); }

 private:
  std::atomic<std::int64_t> inflight_{0};
};

}  // namespace shoal
