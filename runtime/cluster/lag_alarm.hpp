#pragma once
// lag_alarm: when a lag's age deserves a line in the log. From `threshold` on it says so, then
// once a minute while the lag lasts (a lag of hours must not fill the log), and once when the lag
// has ended — fallen below a fifth of the threshold, so an age hovering at the threshold does not
// warn and clear by turns — with the worst age seen meanwhile. Times are passed in, never read
// here. Used for the journal's replication to the cluster (journal_replicator) and for a
// standby following it (journal_follower).

#include <chrono>
#include <optional>

namespace shoal {

class lag_alarm {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  enum class step { quiet, warn, ended };
  static constexpr std::chrono::minutes repeat{1};

  explicit lag_alarm(std::chrono::milliseconds threshold) : threshold_(threshold) {}
  // The age of the lag now: whether to warn, say that it ended, or say nothing.
  step observe(std::chrono::milliseconds age, time_point now);
  // The worst age since the lag's first warning (what `ended` reports).
  std::chrono::milliseconds worst() const { return worst_; }

 private:
  std::chrono::milliseconds threshold_;
  std::optional<time_point> warned_at_;  // the last warning; none = no lag worth one
  std::chrono::milliseconds worst_{0};
};

}  // namespace shoal
