#pragma once
// clock: the one way runtime code reads time. Results never depend on it — outputs follow event
// time only — but when things happen does: idle watermarks, feed pacing, commit deadlines,
// checkpoint cadence, connection timeouts. Everything that waits takes a clock, so tests drive
// time by hand with a manual_clock (manual_clock.hpp) instead of sleeping.
//
// Plain C++ (no CAF): sources, ingest, the store writer and node runners all take one.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace shoal {

class clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

  virtual ~clock() = default;
  // Monotonic time, for intervals and deadlines.
  virtual time_point now() const = 0;
  // Wall-clock time in ns since the Unix epoch (UTC), for stamping ingest-time events.
  virtual std::int64_t wall_ns() const = 0;

  // Like std::condition_variable::wait_until with a predicate, on this clock's time: returns
  // once pred() holds (true) or now() reaches deadline (pred()'s value then). lock must hold
  // cv's mutex; other threads wake the waiter with cv.notify_*() after changing what pred reads.
  template <class Pred>
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  time_point deadline, Pred pred) {
    while (!pred()) {
      if (now() >= deadline) return pred();
      wait_step(lock, cv, deadline);
    }
    return true;
  }
  // Sleeps until deadline, or returns early once stop becomes true (checked at least every
  // 50 ms of real time). Returns false when stopped.
  virtual bool sleep_until(time_point deadline, const std::atomic<bool>& stop) = 0;

 protected:
  // One wait on cv that ends at the latest when deadline passes on this clock.
  virtual void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         time_point deadline) = 0;
};

// The process's real clock: std::chrono::steady_clock and system_clock.
clock& system_clock();

}  // namespace shoal
