#include "runtime/clock/manual_clock.hpp"

namespace shoal {

manual_clock::manual_clock(time_point start, std::int64_t wall_start_ns)
    : now_(start), wall_ns_(wall_start_ns) {}

clock::time_point manual_clock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

std::int64_t manual_clock::wall_ns() const {
  std::lock_guard lock(mu_);
  return wall_ns_;
}

std::size_t manual_clock::waiters() const {
  std::lock_guard lock(mu_);
  return waiting_.size() + sleepers_;
}

void manual_clock::advance(duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
  wall_ns_ += d.count();
  // Waiters' condition variables stay registered (and alive) while they wait: see wait_step.
  for (auto* cv : waiting_) cv->notify_all();
  sleep_cv_.notify_all();
}

void manual_clock::wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             time_point) {
  {
    std::lock_guard g(mu_);
    waiting_.insert(&cv);
  }
  // The advance may land between the caller's deadline check and this wait without holding the
  // caller's mutex, so its notify could be missed: a short real-time bound makes that a delay of
  // at most a millisecond, never a hang. Time itself still only moves by advance().
  cv.wait_for(lock, std::chrono::milliseconds(1));
  std::lock_guard g(mu_);
  waiting_.erase(waiting_.find(&cv));
}

bool manual_clock::sleep_until(time_point deadline, const std::atomic<bool>& stop) {
  std::unique_lock lock(mu_);
  ++sleepers_;
  while (now_ < deadline && !stop.load(std::memory_order_relaxed))
    sleep_cv_.wait_for(lock, std::chrono::milliseconds(50));
  --sleepers_;
  return now_ >= deadline;
}

}  // namespace shoal
