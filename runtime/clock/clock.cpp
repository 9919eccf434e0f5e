#include "runtime/clock/clock.hpp"

#include <thread>

namespace shoal {
namespace {

class real_clock final : public clock {
 public:
  time_point now() const override {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }
  std::int64_t wall_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  bool sleep_until(time_point deadline, const std::atomic<bool>& stop) override {
    constexpr auto slice = std::chrono::milliseconds(50);
    while (!stop.load(std::memory_order_relaxed)) {
      const auto t = now();
      if (t >= deadline) return true;
      std::this_thread::sleep_for(std::min<duration>(deadline - t, slice));
    }
    return false;
  }

 protected:
  void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 time_point deadline) override {
    cv.wait_until(lock, deadline);
  }
};

}  // namespace

clock& system_clock() {
  static real_clock c;
  return c;
}

}  // namespace shoal
