#include "runtime/cluster/replication_age.hpp"

#include <algorithm>

namespace shoal {

void replication_age::committed(std::uint64_t seq, time_point at) {
  if (seq <= replicated_ || (!pending_.empty() && seq <= pending_.back().through)) return;
  // Merged into the last entry: its records keep its older time, so the age errs long.
  if (!pending_.empty() &&
      (at - pending_.back().at < resolution || pending_.size() >= max_entries)) {
    pending_.back().through = seq;
    return;
  }
  pending_.push_back({seq, at});
}

void replication_age::replicated(std::uint64_t seq) {
  replicated_ = std::max(replicated_, seq);
  while (!pending_.empty() && pending_.front().through <= replicated_) pending_.pop_front();
}

std::chrono::milliseconds replication_age::age(time_point now) const {
  if (pending_.empty()) return std::chrono::milliseconds(0);
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - pending_.front().at));
}

}  // namespace shoal
