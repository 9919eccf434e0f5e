#pragma once
// ingest: the one gate every input passes. Live, it assigns each stream's seq, journals the
// record (events, watermarks, rejected input) and forwards it to the stream's node, holding a
// lock so a stream's journal order is its delivery order. Replay forwards journal records as
// they were, without journaling. Graph changes pause it to see a quiet graph; checkpoints only
// hold it: records are still journaled as they arrive (so the commit_ms promise holds during a
// checkpoint) and forwarded, in journal order, once it resumes.
//
// Sources that regenerate their input from the start (fabricator, journal) pass their own
// 1-based index per stream: after a restart, what the journal already holds is skipped, so the
// feed continues exactly where the journal ends — also after a kill -9 mid-bucket.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <functional>
#include <set>
#include <vector>

#include "messages/journal_record.hpp"
#include "runtime/clock/clock.hpp"
#include "runtime/engine/flow_control.hpp"
#include "runtime/engine/node_inbox.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/metrics/stage_latency.hpp"
#include "runtime/sources/record_sink.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

struct ingest_target {
  std::shared_ptr<node_inbox> node;
  std::shared_ptr<node_report> report;
  // Its source journals watermarks: resume_from looks back for the last one (a cluster_node
  // source's streams have none, and looking would read the whole journal at every start).
  bool watermarks = true;
};

struct ingest_options {
  // A rejected frame is journaled with at most this many of its bytes (and, when cut, its size
  // and SHA-256), so junk cannot fill the disk.
  std::size_t reject_keep_bytes = 1024;
  // At most this many rejected records per stream and second are journaled; the rest are
  // counted only.
  std::uint64_t reject_journal_per_second = 100;
  shoal::clock* clock = nullptr;  // null: the system clock
  // Where the ingest stage is recorded (null: nowhere); receipt times travel on to the nodes.
  std::shared_ptr<stage_latency> latency;
};

class ingest final : public record_sink {
 public:
  ingest(std::map<std::string, ingest_target, std::less<>> streams, store_writer* journal,
         flow_control& flow, std::shared_ptr<status_board> board, ingest_options o = {});

  // Where each stream's journal ends (last event seq, last watermark ts): read at start-up.
  void resume_from(const store& s);
  // The stream's last event the journal held at the start (resume_from; none: no event). A
  // source that sees its own index in the stream's seqs goes on after it (cluster_node).
  std::optional<Event> journaled_event(std::string_view stream);

  // Live input. `index` is the regenerating source's own 1-based count for this stream.
  // Returns false when the event was already journaled (skipped). received_ns 0: received now.
  bool event(const std::string& stream, std::int64_t ts, value_ptr payload,
             std::optional<std::uint64_t> index = std::nullopt,
             std::int64_t received_ns = 0) override;
  bool watermark(const std::string& stream, std::int64_t ts) override;
  // A watermark a source made because the stream was quiet for its idle timeout.
  bool idle_watermark(const std::string& stream, std::int64_t ts);
  // Journals what the stream's reporting node counts as rejected: the reason, and the raw bytes
  // (cut to reject_keep_bytes, rate-limited per stream).
  void rejected(const std::string& stream, std::int64_t ts, std::string raw, std::string reason);
  // A frame for a topic that is no stream of the source (ZeroMQ subscriptions match prefixes):
  // counted; the first of each name (up to 1024 names) is logged.
  void unmatched_topic(const std::string& source, const std::string& topic);
  std::uint64_t unmatched_topics() const;
  // A zmq source's connection whose handshake failed (a CURVE feed that does not know its key,
  // a wrong server key, no CURVE where the feed wants it): counted; the first is logged.
  void handshake_failed(const std::string& source, const std::string& endpoint);
  std::uint64_t handshake_failures() const;
  // A change to how the engine runs, journaled at its ingest position (live); replay hands
  // journaled ones to the control handler.
  void control(const Control& c);
  // A stream's event-time mode as journaled (time_mode controls, kept in meta "time_modes"):
  // "payload" or "ingest", or empty when the stream has not fixed one.
  std::string journaled_time_mode(const std::string& stream) const;
  void on_control(std::function<void(const Control&)> handler) { on_control_ = std::move(handler); }
  // A sender's outputs went missing (seq gap on a topic of another engine).
  void count_gap(const std::string& stream, std::uint64_t missed);

  // Replay: a journal record as recorded. Rejected records are counted, never forwarded.
  void forward(const journal_record& r);

  // Stops sources at the gate until resume() (a graph change: nothing may be journaled).
  void pause();
  // Journals what arrives but forwards nothing until resume(); returns the last journal seq
  // the graph will have seen once it is idle (a checkpoint's journal position).
  std::uint64_t hold();
  // Forwards what was held, in journal order, and lets sources through again.
  void resume();
  // Start-up with a journal to catch up: what arrives is journaled and nothing is forwarded or
  // kept (the catch-up reads it back from the journal), so sources run during a long catch-up
  // instead of losing what a feed sends meanwhile. Ended only by end_journal_only().
  void journal_only();
  // From here what arrives is held, as after hold(), until resume(). Returns the last journal
  // seq handed out: the catch-up forwards the journal through it, then calls resume().
  std::uint64_t end_journal_only();
  std::int64_t max_ts() const;  // latest event time seen, for checkpoint cadence
  bool has_stream(std::string_view stream) const { return streams_.count(stream) != 0; }
  flow_control& flow() { return flow_; }

 private:
  struct stream_state {
    ingest_target target;
    std::uint64_t seq = 0;                   // last assigned
    std::uint64_t journaled_seq = 0;         // where the journal ended at start-up
    std::optional<Event> journaled_event = std::nullopt;  // its last event there
    std::int64_t journaled_wm = INT64_MIN;   // last journaled watermark at start-up
    std::int64_t reject_second = INT64_MIN;  // rate limit of journaled rejections
    std::uint64_t rejects_in_second = 0;
    bool idle = false;  // its last record was an idle watermark (shown in the stream's report)
  };
  stream_state* find(std::string_view stream);
  void wait_unpaused(std::unique_lock<std::mutex>& lock);
  bool send_watermark(const std::string& stream, std::int64_t ts, bool idle);
  // Marks a stream idle or active in its report, when that changes. Call with mu_ held.
  void set_idle(stream_state& st, bool idle);
  // Sends to a stream's node now, or after resume() while held. Call with mu_ held.
  void deliver(std::function<void()> send);

  std::map<std::string, stream_state, std::less<>> streams_;
  store_writer* journal_;
  flow_control& flow_;
  std::shared_ptr<status_board> board_;
  ingest_options opt_;
  clock& clock_;
  std::function<void(const Control&)> on_control_;
  std::set<std::string, std::less<>> unmatched_names_;
  std::uint64_t unmatched_ = 0;
  std::uint64_t handshake_failures_ = 0;
  std::map<std::string, std::string> time_modes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool paused_ = false;
  bool holding_ = false;
  bool journal_only_ = false;
  std::vector<std::function<void()>> held_;  // sends waiting for resume(), in journal order
  std::int64_t max_ts_ = INT64_MIN;
};

}  // namespace shoal
