#include "runtime/sources/source_progress.hpp"

#include <cmath>
#include <stdexcept>

#include "messages/decode_error.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

// Event times beyond ±2^62 ns (year 2116) are rejected: bucket arithmetic must not overflow.
constexpr std::int64_t max_event_time = std::int64_t{1} << 62;

std::int64_t checked_ts(const Value& t) {
  if (t.is_int()) {
    if (t.as_int() > -max_event_time && t.as_int() < max_event_time) return t.as_int();
    throw decode_error(error_kind::out_of_range, "ts", "must be within ±2^62 ns of the epoch");
  }
  if (t.is_double()) {
    const double d = t.as_double();
    if (!std::isfinite(d) || d != std::floor(d))
      throw decode_error(error_kind::wrong_type, "ts",
                         "must be an integer (ns since the epoch), got a fractional number");
    if (std::abs(d) >= static_cast<double>(max_event_time))
      throw decode_error(error_kind::out_of_range, "ts", "must be within ±2^62 ns of the epoch");
    return static_cast<std::int64_t>(d);
  }
  throw decode_error(error_kind::wrong_type, "ts", "must be an integer (ns since the epoch)");
}

}  // namespace

source_progress::source_progress(std::vector<stream> streams, options o, clock::time_point now)
    : opt_(o) {
  for (auto& s : streams) {
    state st;
    st.name = std::move(s.name);
    st.mode = s.time;
    st.last_seen = now;
    s_.push_back(std::move(st));
  }
}

void source_progress::check_bound(std::int64_t ts, const state& s, std::int64_t wall_ns) const {
  if (opt_.max_future_ns <= 0) return;
  const std::int64_t base = std::max(s.last_ts, wall_ns);
  if (ts > base && ts - base > opt_.max_future_ns)
    throw decode_error(error_kind::out_of_range, "ts",
                       std::to_string(ts - base) +
                           " ns beyond the stream's progress and the "
                           "wall clock (max_future " +
                           std::to_string(opt_.max_future_ns) + " ns)");
}

source_progress::timed source_progress::event_time(std::size_t i, const Value& payload,
                                                   std::int64_t wall_ns) const {
  const state& s = s_[i];
  const Value* t = s.mode == stream_time::ingest ? nullptr : payload.find("ts");
  if (!t) {
    if (s.mode == stream_time::payload)
      throw decode_error(error_kind::missing_field, "ts",
                         "missing (this stream takes event time from the payload)");
    // Stamped: ingest time, never before the stream's last event.
    return {std::max(wall_ns, s.last_ts), true};
  }
  const std::int64_t ts = checked_ts(*t);
  check_bound(ts, s, wall_ns);
  return {ts, false};
}

source_progress::timed source_progress::given_time(std::size_t i, std::int64_t ts,
                                                   std::int64_t wall_ns) const {
  if (ts <= -max_event_time || ts >= max_event_time)
    throw decode_error(error_kind::out_of_range, "bucket", "beyond ±2^62 ns");
  check_bound(ts, s_[i], wall_ns);
  return {ts, false};
}

bool source_progress::accept(std::size_t i, timed t, clock::time_point now) {
  state& s = s_[i];
  bool fixed = false;
  if (s.mode == stream_time::automatic) {
    s.mode = t.stamped ? stream_time::ingest : stream_time::payload;
    fixed = true;
  }
  s.last_ts = std::max(s.last_ts, t.ts);
  s.last_seen = now;
  s.active = true;
  return fixed;
}

void source_progress::restore_mode(std::size_t i, stream_time t) { s_[i].mode = t; }

std::vector<source_progress::due_watermark> source_progress::due(clock::time_point now,
                                                                 std::int64_t wall_ns) {
  const std::int64_t iv = opt_.interval_ns;
  for (auto& s : s_)
    if (s.active && now - s.last_seen >= opt_.idle_timeout) s.active = false;
  // The source's closed progress: every active stream has closed the buckets before its latest
  // event's bucket; the least of them holds for all.
  std::int64_t progress = INT64_MAX;
  for (const auto& s : s_)
    if (s.active && s.mode != stream_time::ingest && s.last_ts != INT64_MIN)
      progress = std::min(progress, bucket_of(s.last_ts, iv) - 1);
  std::vector<due_watermark> out;
  for (std::size_t i = 0; i < s_.size(); ++i) {
    state& s = s_[i];
    if (s.active) continue;
    std::int64_t wm = INT64_MIN;
    if (s.mode == stream_time::ingest) {
      // Its event time is the wall clock: every bucket before the current one is complete.
      wm = bucket_of(std::max(wall_ns, s.last_ts), iv) - 1;
    } else {
      if (s.last_ts != INT64_MIN) wm = bucket_of(s.last_ts, iv) + iv - 1;  // its own last bucket
      if (progress != INT64_MAX) wm = std::max(wm, progress - opt_.allowed_lateness_ns);
    }
    if (wm > s.last_wm) {
      s.last_wm = wm;
      out.push_back({i, wm});
    }
  }
  return out;
}

}  // namespace shoal
