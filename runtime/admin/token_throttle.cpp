#include "runtime/admin/token_throttle.hpp"

#include <algorithm>

namespace shoal {

token_throttle::verdict token_throttle::on_failure(time_point now) {
  verdict v;
  v.first = streak_ == 0 || now - last_failure_ >= opt_.forget_after;
  streak_ = v.first ? 1 : streak_ + 1;
  last_failure_ = now;
  ++total_;
  ++unlogged_;

  // first_delay * 2^(streak - 1), capped; the shift is bounded so it cannot overflow.
  const auto doublings = std::min<std::uint64_t>(streak_ - 1, 30);
  const auto grown = opt_.first_delay.count() * (std::int64_t{1} << doublings);
  v.delay = std::chrono::milliseconds(std::min<std::int64_t>(grown, opt_.max_delay.count()));

  if (v.first || now - last_log_ >= opt_.log_interval) {
    v.log = true;
    v.unlogged = unlogged_;
    unlogged_ = 0;
    last_log_ = now;
  }
  return v;
}

}  // namespace shoal
