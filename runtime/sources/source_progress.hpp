#pragma once
// source_progress: the event-time bookkeeping of one live source's streams (design §5,
// decisions "Time and watermarks"), as plain C++ on a clock so tests drive it by hand.
//
// - Event time: a stream's `time` mode says where it comes from: "payload" (the payload's `ts`,
//   required), "ingest" (stamped from the wall clock on arrival, never earlier than the stream's
//   last event) or "auto" (the first *accepted* event fixes payload or ingest for good; the
//   caller journals the choice). A rejected record never changes a stream's mode or progress.
// - Bounded jumps: an event later than max(stream progress, wall clock) + max_future is rejected,
//   so one far-future record cannot close every later bucket.
// - Idle streams: a stream with no event for idle_timeout is idle. Its watermark follows the
//   source's progress — the least closed point of its active streams, minus allowed_lateness —
//   so joins below it fire under their on_missing policy; an ingest-time stream follows the wall
//   clock instead (its event time is the wall clock). Watermarks are whole buckets, so an idle
//   stream journals at most one per bucket. The next event makes it active again.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/value.hpp"
#include "runtime/clock/clock.hpp"
#include "runtime/graph/source_decl.hpp"

namespace shoal {

class source_progress {
 public:
  struct options {
    std::int64_t interval_ns = 1'000'000'000;
    clock::duration idle_timeout = std::chrono::seconds(2);
    std::int64_t allowed_lateness_ns = 0;
    std::int64_t max_future_ns = 0;  // 0: no bound
  };
  struct stream {
    std::string name;  // <source>.<stream>
    stream_time time = stream_time::automatic;
  };
  struct timed {
    std::int64_t ts = 0;
    bool stamped = false;  // the ts came from the wall clock
  };
  struct due_watermark {
    std::size_t stream = 0;
    std::int64_t ts = 0;
  };

  source_progress(std::vector<stream> streams, options o, clock::time_point now);

  // The event time of a payload arriving on stream i (its `ts`, or the wall clock). Throws
  // decode_error naming `ts` when it is missing on a payload-time stream, not an integer, out of
  // range, or beyond the max_future bound. Changes nothing: call accept() once the whole record
  // is valid.
  timed event_time(std::size_t i, const Value& payload, std::int64_t wall_ns) const;
  // An event time given by the record itself (another engine's bucket): range and bound checks.
  timed given_time(std::size_t i, std::int64_t ts, std::int64_t wall_ns) const;
  // An accepted event: progress, activity, and an "auto" stream's mode. Returns true when this
  // event fixed the stream's mode (the caller journals the choice).
  bool accept(std::size_t i, timed t, clock::time_point now);
  // A stream's mode fixed earlier (restored after a restart).
  void restore_mode(std::size_t i, stream_time t);

  // Watermarks due at `now` for idle streams, each above the stream's last one.
  std::vector<due_watermark> due(clock::time_point now, std::int64_t wall_ns);

  stream_time mode(std::size_t i) const { return s_[i].mode; }
  bool idle(std::size_t i) const { return !s_[i].active; }
  std::int64_t last_ts(std::size_t i) const { return s_[i].last_ts; }
  std::size_t size() const { return s_.size(); }

 private:
  struct state {
    std::string name;
    stream_time mode;
    std::int64_t last_ts = INT64_MIN;  // latest accepted event time
    std::int64_t last_wm = INT64_MIN;  // latest watermark handed out
    clock::time_point last_seen;
    bool active = true;  // an event within idle_timeout (or not yet timed out since start)
  };
  void check_bound(std::int64_t ts, const state& s, std::int64_t wall_ns) const;

  options opt_;
  std::vector<state> s_;
};

}  // namespace shoal
