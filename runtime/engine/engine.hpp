#pragma once
// engine: a planned graph brought to life — a CAF actor system with one node actor per distinct
// NodeID (source streams included), the ingest gate, the sources, the publisher and the store.
//  - live: inputs are journaled, outputs stored, node state checkpointed; on an existing data
//    dir it restores the last checkpoint and catches up the journal tail before going live.
//  - replay: no live sources; replay() feeds a recorded journal through the same graph.
// No CAF in this header: the CLI and tests drive it through plain calls.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine/node_status.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/metrics/stage_latency.hpp"
#include "runtime/store/output_digest.hpp"
#include "runtime/store/store_writer.hpp"
#include "runtime/transport/publisher.hpp"

namespace shoal {

class engine_lease;

struct engine_options {
  std::string data_dir;               // empty: no store (nothing journaled, stored or checkpointed)
  bool publish = true;                // bind the PUB socket and publish outputs
  bool live = true;                   // false: replay mode (no sources, no journaling)
  std::int64_t checkpoint_every = 0;  // buckets of event time between checkpoints; 0 = at stop
  store_writer::options commit;
  std::string config_text;  // recorded in meta (live): the config files as a msgpack map
  bool digest = false;      // keep each node's wire digest chain (digests())
  // Replay only (live = false): run every node in the replaying thread (inline_graph) instead
  // of as actors. The journal must hold no control records: replay throws at one.
  bool inline_nodes = false;
  // Replay only: store_sync::on_sync for a data dir that is a result, rebuilt and never
  // recovered (a replay's --out): replay() flushes it once, at its end. A live engine's store
  // always flushes every commit, whatever this says.
  store_sync data_sync = store_sync::every_commit;
  shoal::clock* clock = nullptr;  // what sources, ingest and the store wait on; null: system
  // [cluster]: start as the standby of engine <engine_id> (docs/cluster.md): follow its journal
  // from the cluster, and take over when its lease expires.
  bool standby = false;
  // [cluster]: the lease a placed standby took (engine::lease_taken): this engine is engine
  // <engine_id> with it, without acquiring one.
  std::shared_ptr<engine_lease> lease;
  // With it: what each member said it published of its nodes, as that standby read it
  // (engine::reports_taken). The placement hands it on with the nodes of a process whose key
  // expired meanwhile, the dead active process's among them.
  std::map<std::string, std::map<std::string, std::uint64_t>> reported;
  // Live: called just before the sources start (at start, or when a standby takes over): from
  // then on what a feed sends is journaled, so a stop must commit it rather than end the
  // process. `shoal run` installs its signal handlers there; a signal before it ends a start at
  // once, with nothing to lose.
  std::function<void()> before_sources;
  // Set (by those handlers) to stop: a catch-up in progress ends where it is, checkpoints there
  // and start() returns without going live; stop() then commits what was journaled.
  const std::atomic<bool>* stop = nullptr;
};

struct engine_counts {
  std::size_t node_actors = 0;    // distinct declared nodes (after dedup)
  std::size_t stream_actors = 0;  // source streams (pass 0)
  std::size_t source_feeds = 0;   // fabricator actors and source threads
};

struct replay_options {
  double speed = 0;                  // 0 = as fast as the graph allows; N = N x event time
  bool progress = false;             // a progress line on stderr
  std::int64_t max_inflight = 4096;  // messages in flight between actors before the reader waits
  // Set (e.g. by a signal handler) to stop reading the journal; replay then drains what it
  // forwarded and returns with replay_stats::cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Only the journal records after ingest seq after_seq through through_seq (0: to the end):
  // `explain` recomputes one output from the stretch of history that made it.
  std::uint64_t after_seq = 0, through_seq = 0;
};

struct replay_stats {
  std::uint64_t records = 0, events = 0, watermarks = 0, rejected = 0, controls = 0;
  double seconds = 0;
  bool cancelled = false;  // replay_options::cancel stopped it before the journal's end
};

class engine {
 public:
  engine(config cfg, plan p, engine_options o = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Binds the publisher, opens the store, spawns every actor (restoring checkpoints), catches
  // up the journal tail and starts the sources. Throws on a bind or store error.
  void start();
  // Replay mode: feeds every record of `from`'s journal, then waits for the graph to drain.
  replay_stats replay(const store& from, const replay_options& o);
  // Called periodically by the runner: checkpoints when checkpoint_every buckets have passed.
  void tick();
  // Quiesces the graph and writes every node's state and the journal position to the store.
  void checkpoint();
  // Every source is finite (journal sources) and has delivered everything.
  bool sources_done() const;
  // [cluster] members > 1: the nodes placed on this standby changed (a placed process died).
  // The runner stops this engine and starts a new one on the same data dir, which computes them.
  bool restart_wanted() const;
  // Set with restart_wanted() when the standby took the engine's lease: the runner starts the
  // next engine as the active one with it (engine_options::lease).
  std::shared_ptr<engine_lease> lease_taken() const;
  // With it: what the members said they published, as this standby read them.
  std::map<std::string, std::map<std::string, std::uint64_t>> reports_taken() const;
  // Stops the sources, drains the graph, checkpoints, stops the actors, flushes the store and
  // the publisher. Idempotent.
  void stop();

  engine_counts counts() const;
  std::vector<node_report> nodes() const;
  publisher_stats publish_stats() const;
  // The PUB endpoint as bound (a "tcp://host:*" config names its port here); empty when not
  // publishing.
  std::string publish_endpoint() const;
  // Subscribers of the tracked endpoint ([engine] publish_tracked) and their drop counts.
  std::vector<subscriber_stats> subscribers() const;
  writer_stats store_stats() const;
  // The live path's latency at one stage (stage_latency.hpp); empty when not live.
  latency_histogram latency(latency_stage s) const;
  // Frames of topics that are no stream of their zmq source (prefix matches), ignored.
  std::uint64_t unmatched_topics() const;
  // The wire digest of every node that emitted (engine_options::digest).
  digest_set digests() const;
  const plan& graph() const;

  // Implementation detail, shared with the admin commands (runtime/engine/engine_impl.hpp).
  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace shoal
