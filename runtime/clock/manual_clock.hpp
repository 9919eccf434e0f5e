#pragma once
// manual_clock: a clock that moves only when a test says so (like NautilusTrader's TestClock).
// advance() moves both steady and wall time and wakes every thread waiting on this clock, so a
// deadline that the advance reached fires at once: idle timeouts, pacing and commit deadlines
// are tested exactly, without sleeping.

#include <set>

#include "runtime/clock/clock.hpp"

namespace shoal {

class manual_clock final : public clock {
 public:
  // Starts at steady time `start` and wall time `wall_start_ns`.
  explicit manual_clock(time_point start = time_point(std::chrono::hours(1)),
                        std::int64_t wall_start_ns = 1'767'225'600'000'000'000);

  time_point now() const override;
  std::int64_t wall_ns() const override;
  bool sleep_until(time_point deadline, const std::atomic<bool>& stop) override;

  // Moves time forward by d (d >= 0) and wakes every waiter.
  void advance(duration d);
  // Threads currently blocked in a wait or sleep on this clock (for tests that must know a
  // thread reached its wait before advancing).
  std::size_t waiters() const;

 protected:
  void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 time_point deadline) override;

 private:
  mutable std::mutex mu_;
  std::condition_variable sleep_cv_;
  time_point now_;
  std::int64_t wall_ns_;
  std::multiset<std::condition_variable*> waiting_;
  std::size_t sleepers_ = 0;
};

}  // namespace shoal
