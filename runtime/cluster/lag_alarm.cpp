#include "runtime/cluster/lag_alarm.hpp"

#include <algorithm>

namespace shoal {

lag_alarm::step lag_alarm::observe(std::chrono::milliseconds age, time_point now) {
  if (age >= threshold_) {
    worst_ = warned_at_ ? std::max(worst_, age) : age;
    if (warned_at_ && now - *warned_at_ < repeat) return step::quiet;
    warned_at_ = now;
    return step::warn;
  }
  if (warned_at_ && age < threshold_ / 5) {
    warned_at_.reset();
    return step::ended;
  }
  return step::quiet;
}

}  // namespace shoal
