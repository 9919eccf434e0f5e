#pragma once
// journal_replicator: copies the engine's committed journal to the cluster's JetStream stream
// (design §12), record by record in journal order, on subject <subjects>.in.<engine_id> with
// message id "<engine_id>:<journal seq>". Only committed records are sent, so a journal seq
// names the same bytes for ever (also after a kill -9: what was not committed was never sent);
// a batch that is not wholly acknowledged is sent again, and JetStream stores each id once
// within the duplicate window. The local journal is the outbox: an outage of the cluster costs
// nothing but lag, and the rest goes once a server answers again.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/cluster/lag_alarm.hpp"
#include "runtime/cluster/replication_age.hpp"
#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class store;
class store_writer;
class jetstream_link;

struct replication_stats {
  std::string engine_id, stream, subject, server;
  std::uint64_t committed = 0;   // last committed local journal seq
  std::uint64_t replicated = 0;  // every journal record through this seq is in the cluster
  // How long ago the oldest record not in the cluster was committed (replication_age), 0 = none.
  std::int64_t lag_ms = 0;
  std::uint64_t stream_seq = 0;  // the stream sequence of the last one acknowledged
  std::uint64_t sent = 0;        // messages acknowledged this run (duplicates included)
  std::uint64_t duplicates = 0;  // acknowledged as already stored (a resend)
  std::uint64_t failures = 0;    // batches sent again
  std::uint64_t reconnects = 0;
  // Records its start found missing below ones the stream held, and put there as lost
  // (an empty dir's catch-up: lost_journal_record).
  std::uint64_t journal_lost = 0;
  std::string last_error;
};

class journal_replicator {
 public:
  static constexpr std::size_t batch_records = 512;
  // A record this long committed and not yet in the cluster is logged (a warning): a host lost
  // now would lose that much of the feed, and a growing lag means the cluster takes fewer
  // records/s than the engine journals, or does not answer.
  static constexpr std::chrono::seconds lag_warning{5};

  // Connects, makes sure the stream exists, finds where the cluster's copy of this engine's
  // journal ends, and records the config (`config_packed`, the dir's meta "config") on
  // <subjects>.config.<engine_id>. When the cluster holds more of this engine's journal than
  // the data dir (a new host taking the engine over with an empty dir, a dir from a backup),
  // appends the records the dir lacks first. Throws cluster_error when no server answers, or
  // when the dir's journal is not a prefix of the cluster's (another engine's dir).
  journal_replicator(cluster_decl c, const store& db, std::shared_ptr<store_writer> writer,
                     const std::string& config_packed);
  ~journal_replicator();
  journal_replicator(const journal_replicator&) = delete;
  journal_replicator& operator=(const journal_replicator&) = delete;

  // Adds a listener called on the sender's thread with the new `replicated` after each
  // acknowledged batch (publish_after_commit in cluster mode: an output waits for its inputs to be
  // in the stream; stream_outputs: so do the outputs put there).
  void on_replicated(std::function<void(std::uint64_t replicated)> listener);
  // Wakes the sender: records through `seq` are committed.
  void committed(std::uint64_t seq);
  // Sends what is committed until `drain` has passed, then stops. Returns whether everything
  // committed reached the cluster.
  bool stop(std::chrono::milliseconds drain);
  replication_stats stats() const;

 private:
  void catch_up_from_cluster(std::uint64_t local, std::uint64_t in_cluster);
  void run();
  bool send_batch(std::uint64_t committed);
  // Under mu_: logs a lag past lag_warning (then once a minute while it lasts), and its end.
  void warn_of_lag(std::chrono::steady_clock::time_point now);

  cluster_decl c_;
  const store& db_;
  std::shared_ptr<store_writer> writer_;
  std::unique_ptr<jetstream_link> link_;
  std::string subject_;
  std::mutex stop_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_;
  replication_stats st_;
  replication_age age_;
  std::optional<std::chrono::steady_clock::time_point> stopped_at_;  // the age's clock stops
  lag_alarm alarm_{lag_warning};
  std::vector<std::function<void(std::uint64_t)>> on_replicated_;
  std::thread thread_;
};

}  // namespace shoal
