#pragma once
// engine::impl: the running engine's parts, shared by engine.cpp (lifecycle, checkpoints),
// engine_replay.cpp, engine_changes.cpp (strategies submitted and removed, node restarts, warm
// starts), engine_admin.cpp (the admin commands) and engine_metrics.cpp. Private to
// runtime/engine: CAF.

#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "messages/journal_record.hpp"
#include "runtime/admin/admin_server.hpp"
#include "runtime/cluster/checkpoint_sweeper.hpp"
#include "runtime/cluster/cluster_checkpoint.hpp"
#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/engine_lease.hpp"
#include "runtime/cluster/journal_follower.hpp"
#include "runtime/cluster/journal_replicator.hpp"
#include "runtime/cluster/node_placement.hpp"
#include "runtime/cluster/output_exporter.hpp"
#include "runtime/cluster/placement_exchange.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/inline_graph.hpp"
#include "runtime/engine/node_host.hpp"
#include "runtime/engine/runtime_strategies.hpp"
#include "runtime/sources/sources.hpp"
#include "runtime/store/dir_lock.hpp"
#include "runtime/transport/snapshot_server.hpp"

namespace shoal {

// A process that takes nodes after a re-placement publishes what the dead process may not have
// sent only this long after binding its socket again: its subscribers (ZeroMQ reconnects every
// 100 ms by default) are back by then; a PUB socket drops what it sends before a subscription
// arrives.
inline constexpr auto resubscribe_grace = std::chrono::milliseconds(500);

// The NodeIDs a checkpoint meta lists under `key` ("computed", "published"); none when it has no
// such list (a checkpoint made before the nodes were placed).
std::optional<std::set<std::string>> listed_nodes(const Value& meta, const char* key);
// The checkpoint(s) of the processes `from` names (", " between them), for a log line.
std::string whose_checkpoints(const std::string& from);

struct engine::impl {
  config base_cfg;  // the config file(s), without runtime changes
  config cfg;       // what runs: base_cfg with rt applied
  runtime_strategies rt;
  std::shared_ptr<const plan> graph;
  engine_options opt;
  zmq::context_t zmq_ctx{1};
  std::shared_ptr<status_board> board = std::make_shared<status_board>();
  std::shared_ptr<flow_control> flow = std::make_shared<flow_control>();
  std::shared_ptr<zap_handler> zap;  // CURVE on the engine's endpoints ([engine] curve)
  std::shared_ptr<publisher> pub;
  // Live only: where input spends its time from receipt to the PUB socket (metrics).
  std::shared_ptr<stage_latency> latency;
  std::unique_ptr<dir_lock> lock;
  std::unique_ptr<store> db;
  std::shared_ptr<store_writer> writer;
  // [cluster]: copies the committed journal to JetStream (after db and writer: it reads both).
  std::unique_ptr<journal_replicator> replicator;
  // [cluster] stream_outputs: the outputs of the nodes this process publishes go into the stream
  // too (after db: it reads the committed outputs). export_outputs() tells it which, from tick().
  // The replicator, for the exporter's thread: made at the start or at a takeover, never
  // replaced after. Declared before the exporter: it outlives the exporter's thread.
  std::atomic<journal_replicator*> replicating{nullptr};
  std::unique_ptr<output_exporter> exporter;
  void export_outputs();
  // [cluster] checkpoints: this process's checkpoints go to the cluster too (the active engine's
  // with members = 1, a placed process's share under its own name); what an empty dir restored
  // from there at its start.
  std::unique_ptr<checkpoint_uploader> uploader;
  checkpoint_restore restored;
  std::string base_graph_hash;  // the config's graph, before runtime strategy changes
  // An uploader of this process's checkpoints, `r` replicating its journal (null: a standby,
  // whose journal came from the cluster), under `name` (process_checkpoint_name; empty: the
  // engine's). None when it cannot connect: the journal is what must reach the cluster.
  std::unique_ptr<checkpoint_uploader> checkpoint_uploads(const journal_replicator* r,
                                                          const std::string& writer_name,
                                                          const std::string& name = {}) const;
  // The graph as of the dir's last checkpoint: the config plus the strategy changes before it.
  void adopt_checkpoint_graph();
  // A new host's empty dir, its journal just taken from the stream: the nodes start from the
  // cluster's checkpoint when one fits (or from the journal's start, which it says).
  void restore_from_cluster();
  // [cluster]: the lease that makes this process engine <engine_id> (the ingesting one), and,
  // on a standby (`--standby`), what follows the active engine's journal until it takes over.
  std::shared_ptr<engine_lease> lease;
  std::shared_ptr<engine_lease> handoff;  // a placed standby's, for the engine it restarts as
  // With it: what the members said they published, as this standby read them (reports_taken).
  std::map<std::string, std::map<std::string, std::uint64_t>> handoff_reports;
  bool lease_handed = false;              // this engine started with such a lease
  std::unique_ptr<journal_follower> follower;
  std::atomic<bool> standby{false};
  std::atomic<bool> fenced{false};  // another process took the lease: sources stopped
  // [cluster]: where this process publishes, for subscribers that follow every member.
  // Under member_mu: a fence (the lease's thread), a takeover (the follower's) and stop() meet.
  std::unique_ptr<member_heartbeat> member;
  std::mutex member_mu;
  void set_member_role(const char* role);
  // Every half second: the journal this process holds and its lag go in its member record, so
  // that any member's admin `cluster` shows how far each process of the engine is behind.
  void report_journal();
  // publish_after_commit releases outputs on the cluster's acks, not the local commit, once
  // this process replicates (an active engine, or a standby after its takeover).
  std::atomic<bool> release_on_cluster_ack{false};
  void fence();
  // [cluster] members > 1 (docs/cluster.md, "Placement"): where the nodes are placed, and which
  // of them this process computes (its own and everything upstream of them; empty: all). The
  // others are spawned but fed nothing, so admin commands find every node.
  std::optional<placement_record> placement;
  // Whether the graph may be placed: not changed at runtime (submit or remove, in the checkpoint
  // or the journal).
  bool placeable = false;
  std::string instance;  // this process in the placement
  std::vector<bool> computed;
  bool computes(std::size_t i) const { return computed.empty() || computed[i]; }
  // Whether this process publishes node i: its own nodes, and the streams on the active one.
  bool publishes(std::size_t i) const;
  // Before the nodes are spawned: the active process places them, a standby reads where.
  void place_nodes_on_members();
  std::unique_ptr<placement_channel> placements;    // placed: kept for the moves below
  std::chrono::steady_clock::time_point placed_at;  // when this process last wrote a placement
  void write_placement_now(const placement_record& r, bool patient);
  // A placed process that dies (docs/cluster.md, "When a placed process dies"): its nodes move.
  // From tick(): the last seqs this process published go out with its heartbeat, the active
  // process moves a dead one's nodes, a standby whose share changed restarts.
  void keep_placement();
  void place_lost_nodes();
  void follow_placement();
  // What the nodes of this graph cost, as a placement weighs them: what this process measured
  // (`reports`, a board snapshot), else what the members said, else what the placement recorded.
  node_costs placement_costs(const std::vector<node_report>& reports);
  // The placement was written by another process since this one wrote it: it stops.
  void fence_overwritten();
  // A standby joining (docs/cluster.md, "A standby that joins"; engine_give.cpp): while the
  // placement has fewer processes than [cluster] members, the active process gives a standby of
  // the graph outside it that follows the journal some of the placed processes' nodes: it writes
  // the placement naming the standby; each giver publishes its nodes until the standby's member
  // record says it published them, then nothing after that seq (publish_cuts). The standby
  // (outside(): it computes and publishes every node) reads the placement and restarts on its
  // data dir to compute its share, publishing on from where it was. At each member listing,
  // under graph_mu. Whether it acted on the placement without writing it: its write left
  // unacknowledged, or an earlier unacknowledged one found landed and gone on from.
  bool give_nodes(const std::vector<cluster_member>& live);
  void stop_publishing_given(const std::vector<cluster_member>& live);
  void cut_given();  // a placed standby's stop_publishing_given, at its half-second beat
  // The placement `next` gives `joiner` the nodes `moving` (those of this process's among
  // them): it publishes them until the joiner does (giving), says so in `gave`, and places by
  // `next` from now on.
  void start_giving(placement_record next, const std::string& joiner, std::uint64_t journal_pos,
                    const std::set<std::string>& moving);
  // An operator's move of one node to another placed standby (admin `move`; engine_give.cpp):
  // asked under graph_mu, done by the runner at its next member listing as a give is (the
  // receiver restarts to compute it, from its process's checkpoint in the cluster; the process
  // it leaves publishes it until the receiver does). `move_state`: the last one, for admin.
  struct move_request {
    std::string id, name, to;
    bool rebalance = false;  // asked by rebalance(), not by an operator
    std::string why;         // rebalance's, for the log
  };
  std::optional<move_request> move_asked;  // until done or refused
  nlohmann::json move_state;
  void move_node(const std::vector<cluster_member>& live);
  // What a write of the placement that went through does, after a give (give_nodes), a move
  // (move_node) and a loss (place_lost_nodes): at once, or a listing later for a write the
  // cluster did not acknowledge and that is found in it then (settle_unsure).
  void gave_to_joiner(placement_record next, const std::string& to, std::uint64_t committed,
                      const std::map<std::string, std::string>& moving, std::size_t given);
  void moved_node(placement_record next, const move_request& req, const std::string& from,
                  std::uint64_t committed);
  void placed_after_loss(placement_record next, const std::vector<std::string>& lost);
  // The writes of the placement the cluster did not acknowledge since the last one it did: each
  // may have landed (the acknowledgement lost, or the write stored after its wait), and the
  // standbys then act on it. Each was a compare-and-set on the revision this process last
  // wrote, so at most one landed. Kept until the placement is read holding one of them (then the
  // active process goes on as after that write acknowledged: its `landed`, on the runner's
  // thread, graph_mu not held) or until a later write goes through: read back at each listing
  // and before each write.
  struct unsure_placement {
    placement_record next;
    std::function<void()> landed;
  };
  std::vector<unsure_placement> unsure;
  bool unsure_said = false;  // that none is in the cluster (yet), once
  enum class unsure_state {
    none,     // no write is unsure
    landed,   // one was: its `landed` ran
    absent,   // the cluster holds none of them (yet)
    unknown,  // the cluster did not answer the read
  };
  unsure_state settle_unsure();
  // A write that threw `e`: unsure, unless the cluster refused it for certain. At most
  // max_unsure are kept (the oldest dropped: a cluster that answers reads and not writes).
  // Whether it was kept.
  bool add_unsure(const cluster_error& e, placement_record next, std::function<void()> landed);
  static constexpr std::size_t max_unsure = 64;
  enum class placement_write {
    written,      // it went through
    overwritten,  // another process wrote the key since this one did: it fences itself
    settled,      // not written: an unsure write was found landed, and acted on
    unknown,      // not written: the cluster did not say whether an unsure one landed
  };
  // placements->update, after settling the unsure writes. The failpoint placement_ack_lost makes
  // its first write go through and look unacknowledged. Throws cluster_error as update does.
  placement_write update_placement(const placement_record& next);
  // Whether a write went through; one another process overwrote fences this process.
  bool went_through(placement_write w);
  bool ack_lost = false;  // the failpoint fired
  // Why node `id` cannot move now ("" when it can), under graph_mu: admin, rebalance and
  // move_node ask the same.
  std::string why_not_move(const std::string& id) const;
  void refuse_move(const std::string& why);  // the asked one, logged and in move_state
  // The standbys of this graph in `live` that follow the journal close to its end: those a give
  // or a move may go to.
  std::vector<std::string> standbys_following(const std::vector<cluster_member>& live) const;
  // [cluster] rebalance_above: a move place_rebalance finds by measured cost, asked as admin
  // `move` asks one, at most every rebalance_every (from the active process's start on).
  void rebalance(const std::vector<cluster_member>& live);
  std::optional<std::chrono::steady_clock::time_point> rebalanced_at;
  // NodeID → the process publishing it next (the standby it was given to, or the one it moved on
  // to), until that one says it published it.
  std::map<std::string, std::string> giving;
  // Under graph_mu: NodeID → the seq the process it was given to publishes after, from the cut
  // on, for the output exporter (export_outputs), which sends its stored outputs to the stream
  // until the stream holds them through it.
  std::map<std::string, std::uint64_t> given_exported;
  // Under graph_mu: the given nodes cut since shed_cut_nodes last ran. It stops computing those,
  // and the upstream copies only they read, that nothing it publishes or still gives reads: it
  // unsubscribes their actors and starts them again empty, fed nothing, as a node placed
  // elsewhere is at a start. Not while a take renews actors, a node is paused or a restart is
  // due: at the next listing then.
  std::set<std::string> cut_pending;
  void shed_cut_nodes();
  // The active process, under graph_mu: the nodes it placed on the standby joining (`joining_to`),
  // each until that one says it published it, is gone, or give_limit passed (one give at a time).
  std::set<std::string> joining;
  std::string joining_to;  // set with `joining`; stale once that is empty, and unread
  // The active process: NodeID → the process that gave it to a standby joining, until that
  // standby says it published it (it goes back there should the standby die first).
  std::map<std::string, std::string> given_from;
  // A standby that never says it published them (stuck, or a build that says nothing of a node
  // that never fired): a give ends after this all the same.
  static constexpr std::chrono::seconds give_limit{60};
  std::chrono::steady_clock::time_point joined_at;
  bool promoted_in_place = false;  // under graph_mu: an outside standby taking the engine over
  std::chrono::steady_clock::time_point gave_at;
  void follow_joining();  // an outside standby, every half second
  // This graph's placement as the cluster has it now; none when it cannot be read (logged).
  std::optional<placement_record> read_placement();
  // A standby of a placed engine that the placement does not name: it computes every node, and
  // the active process may give it some (follow_joining). Its takeover ends it (standby false).
  bool outside() const { return standby && placements && !placement; }
  // Under graph_mu, by NodeID: the last seq each node's actor may publish (UINT64_MAX: all),
  // made for each actor node_args makes.
  std::map<std::string, std::shared_ptr<std::atomic<std::uint64_t>>> publish_cuts;
  nlohmann::json gave;  // under graph_mu: the last give, for admin `cluster`
  // The NodeIDs it publishes (no stream), but those it is taking (unpublished): until it has,
  // its member record, costs and checkpoints claim nothing of them.
  std::set<std::string> own_ids() const;
  // Of the nodes it publishes, as `reports` (a board snapshot) has them.
  member_published own_last_seqs(const std::vector<node_report>& reports) const;
  // What each node it publishes costs here: its kernel seconds since the first measure over the
  // input events its streams took since then (empty until they took 200). Per input event, not
  // per second: a market's closed hours cost nothing and count nothing. From `reports`, a board
  // snapshot.
  node_costs own_costs(const std::vector<node_report>& reports);
  struct cost_base {
    bool set = false;
    std::uint64_t events = 0;             // the streams' input events then
    std::map<std::string, double> sum_s;  // each node's kernel seconds then
  } cost_from;
  node_costs measured_costs;  // the active one: what the members said, by NodeID
  std::map<std::string, member_published> last_published;  // the active one: by member
  std::map<std::string, std::uint64_t> published_before;   // with the next renewal
  bool lost_reported = false, evicted = false;
  // The active one, under graph_mu: nodes placed on a process that is gone, with no process to go
  // to (with active_takes = false), or that it is taking (below), so nobody publishes them.
  std::set<std::string> unpublished;
  void note_unpublished(const std::vector<std::string>& lost);  // their nodes, under graph_mu
  // The active process takes such nodes itself while it runs ([cluster] active_takes;
  // engine_take.cpp): from `from`'s checkpoint in the cluster brought forward over its journal
  // (or from the journal's start), beside the live graph, then, with the graph quiet for the last
  // records, its actors of them renewed and fed. The placement saying so is written first;
  // `taking` while a thread does it (the active process places nothing more meanwhile).
  void take_nodes(std::set<std::string> taken);
  void stop_taking();
  std::thread take_thread;
  std::atomic<bool> taking{false}, take_stop{false};
  // Under graph_mu: the nodes of a take that failed. They stay unpublished until a restart, and
  // this process takes nothing more while it runs.
  std::set<std::string> untaken;
  // The take's work, on take_thread; throws what went wrong (a stop: returns false).
  bool take_running(const std::set<std::string>& taken);
  // Its last step, with the graph quiet: the actor of each node of g `brought` names (by node:
  // the pass that brought it forward, or null) replaced by one starting from the state that
  // pass reached, and wired.
  void renew_taken(const plan& g, const std::vector<const inline_graph*>& brought);
  std::chrono::steady_clock::time_point listing_acted_on;  // the member listing last looked at
  std::atomic<bool> restart{false};  // the runner makes a new engine on the data dir
  // The start computes nodes the checkpoint lacks: every node starts empty and catch_up() goes
  // through the whole journal; outputs up to quiet_through (by NodeID) are not published. The
  // start clears it once its nodes are spawned (and those handed to it started): a node spawned
  // later (a restart) publishes all it makes.
  bool rebuild = false;
  std::map<std::string, std::uint64_t> quiet_through;
  // The nodes spawn_nodes started from this dir's checkpoint (it runs once per engine: a
  // restart makes a new one).
  std::set<std::string> restored_ids;
  void rebuild_from_journal(const std::vector<std::string>& missing,
                            const std::set<std::string>& new_here);
  // What the start publishes of the nodes it computes (quiet_through): of a node handed to it
  // (`new_here`), the outputs after the seq handed with it; of its own, those after its last
  // stored one.
  void set_quiet_through(const std::set<std::string>& new_here);
  // A placed heir (engine_handover.cpp): the nodes handed to it start from the checkpoint the
  // process they came from put in the cluster, brought forward to this dir's checkpoint's
  // position, instead of a rebuild of every node from the journal's start. `rebuild`, with why
  // in the log, when that cannot be done; `stopped` when a stop came meanwhile.
  enum class handed_start { restored, rebuild, stopped };
  handed_start restore_handed_nodes(const std::set<std::string>& new_here);
  // The active process does that once its sources journal what a feed sends (a restore brings
  // a stretch of journal forward first; a rebuild goes through the whole of it in the catch-up):
  // its nodes are spawned from its own checkpoint, then those handed to it are renewed from
  // the state brought forward, or every node it computes is renewed empty to be rebuilt.
  // False when a stop came meanwhile.
  std::set<std::string> handed_after_sources;
  std::vector<std::string> missing_after_sources;
  bool start_handed_nodes();
  void finish_placing();          // the rest of place_nodes_on_members, either way
  // The active process of a placed engine removes the checkpoints of processes gone for good
  // from the cluster ([cluster] checkpoint_retention).
  std::unique_ptr<checkpoint_sweeper> sweeper;
  void sweep_gone_checkpoints();
  bool stopped_in_start = false;  // a stop came while it did: start() goes no further
  // Its work; refuse(why) says why not and returns false. `from` gets the process they came from.
  bool bring_handed_forward(const std::set<std::string>& new_here, std::string& from,
                            std::chrono::steady_clock::time_point t0,
                            const std::function<bool(const std::string&)>& refuse);
  nlohmann::json handed_restore;  // what it did or why not, for admin `cluster`
  // Then, once live: the outputs of the handed nodes before that checkpoint, made from the
  // journal's start on a thread of low priority (stored, never published). A rebuild makes
  // them anyway (forget_backfill).
  void start_backfill();
  void stop_backfill();
  void forget_backfill();
  // The nodes a backfill running now (or stopped, to go on) makes the outputs of: for the
  // exporter, from the tick thread without graph_mu.
  std::set<std::string> backfilling() const;
  mutable std::mutex backfill_mu;
  std::set<std::string> backfill_nodes;  // under backfill_mu
  // More nodes lack their outputs before journal record `through`: a backfill running stops and
  // starts again from the journal's start with them. Call without graph_mu.
  void add_backfill(const std::set<std::string>& nodes, std::uint64_t through);
  std::thread backfill_thread;
  ~impl() {  // stop() joined them, unless it was never called
    stop_taking();
    stop_backfill();
  }
  std::atomic<bool> backfill_stop{false};
  nlohmann::json backfill_state;  // under graph_mu: for admin `cluster`
  // A placed process's checkpoints go to the cluster under its own name
  // (process_checkpoint_name), each once a member record the active process has most likely
  // read says it published every output the checkpoint made (member_heartbeat::
  // listed_published): its heir publishes after the seq handed on, and takes only a checkpoint
  // not past it. Oldest first, at most a few. The checkpoint of a clean stop goes once the stop's
  // last member record is written (offer_stop_checkpoint).
  struct placed_upload {
    cluster_checkpoint cp;
    member_published seqs;  // of the nodes it publishes, at the checkpoint
  };
  std::deque<placed_upload> placed_uploads;
  std::mutex placed_uploads_mu;
  void placed_checkpoint_uploads();  // makes the uploader, once placed
  void queue_placed_upload(cluster_checkpoint cp);
  void offer_placed_uploads();  // from keep_placement
  // At a clean stop whose last member record says `said` was published: the latest queued (the
  // stop's), unless it holds more; said_stop_checkpoint() logs whether it went.
  void offer_stop_checkpoint(const member_published& said);
  void said_stop_checkpoint();
  std::uint64_t stop_checkpoint = 0;  // its journal position, once offered
  std::shared_ptr<ingest> gate;
  std::shared_ptr<digest_board> digests;  // when opt.digest
  const store* replay_source = nullptr;   // replay: the recorded dir (warm starts read it)
  std::uint64_t final_unmatched = 0;      // the gate's count, kept when it goes at stop
  std::unique_ptr<snapshot_server> snapshots;
  std::unique_ptr<admin_server> admin;
  // The admin endpoints answer from the first moments of a start (a catch-up can take minutes):
  // until the engine is live they answer `status` and `metrics` from these alone (start() may
  // replace cfg and graph meanwhile) and refuse the rest.
  struct start_progress {
    std::atomic<bool> live{false};
    std::atomic<const char*> phase{"starting"};              // static strings only
    std::atomic<std::uint64_t> through{0}, last{0};          // catch-up: journal records
    std::string engine, graph_hash;                          // as the start began
    std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
  } progress;
  bool any_paused = false;
  std::atomic<bool> caught_up{false};  // the restored state has seen the whole journal
  // Guards cfg, graph, node_actors and reports: admin commands (which may re-plan), periodic
  // checkpoints and stop take it, so none sees a graph half-changed.
  mutable std::recursive_mutex graph_mu;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> node_actors;         // by plan index
  std::unique_ptr<inline_graph> inline_nodes;  // instead of node_actors (opt.inline_nodes)
  std::vector<std::unique_ptr<thread_source>> threads;
  // Guards `threads`: a takeover starts sources on the follower's thread, a lost lease stops
  // them on the lease's, while the runner asks sources_done().
  mutable std::mutex sources_mu;
  std::vector<std::shared_ptr<node_report>> reports;
  std::map<std::string, std::uint64_t> retired_seq;  // NodeID → last seq of a stopped node
  engine_counts counts;
  std::int64_t min_interval = 0;
  std::int64_t last_checkpoint_ts = INT64_MIN;
  // Placed: its share changed (a start with nodes new to it, a take): the next checkpoint comes
  // at the next tick or followed event instead of checkpoint_every later, so that a heir finds
  // one of the new share in the cluster (an older one lacks the new nodes: refused, the heir
  // rebuilds them from the journal's start). write_checkpoint clears it.
  std::atomic<bool> checkpoint_soon{false};
  std::uint64_t ticks = 0;
  bool started = false, stopped = false;

  shoal::clock& clk() const { return opt.clock ? *opt.clock : system_clock(); }
  bool live() const { return opt.live; }
  bool inline_mode() const { return opt.inline_nodes && !opt.live; }

  // The checkpoint meta: {journal_pos, strategies}; nil when none was written.
  Value checkpoint_meta() const;
  std::uint64_t checkpoint_position() const;
  // The seq a node's outputs continue after when it starts without a checkpoint: never reuse
  // one its NodeID already has in the store (or had in this process).
  std::uint64_t seq_after(const std::string& id) const;
  node_host_args node_args(std::shared_ptr<const plan> g, std::size_t i,
                           std::shared_ptr<node_report> report,
                           std::optional<std::string> checkpoint, bool warming);
  std::shared_ptr<node_report> add_report(const plan_node& n);
  void spawn_nodes();
  void make_ingest();
  // false: a stop (opt.stop) cut it short; the graph went through part of the journal and
  // checkpointed there, and the engine does not go live.
  bool catch_up(bool sources_running);
  void start_sources();
  // Binds the admin endpoints ([engine] admin, admin_tcp, metrics_http, console) if any.
  void start_admin();
  void stop_sources();
  // [cluster]: the active engine keeps its lease; a standby follows the journal, then takes over.
  void keep_lease();
  void follow_journal();
  void take_over(std::unique_ptr<engine_lease> l);
  void follow_cluster_acks();  // publish_after_commit follows the replicator's acks

  // Lets ingest go on when a quiet section ends, however it ends.
  struct resume_ingest {
    ingest* g;
    ~resume_ingest() {
      if (g) g->resume();
    }
  };

  // Runs f with the graph quiet: ingest paused, every message in flight handled. Nothing enters
  // the graph until f returns. The caller holds graph_mu.
  template <class F>
  auto quiesce(F&& f) {
    resume_ingest guard{gate.get()};
    if (gate) gate->pause();
    flow->wait_idle();
    return f();
  }

  // Runs f(journal position) with the graph quiet, as quiesce, but ingest keeps journaling what
  // arrives (forwarded after f): the graph has seen exactly the journal through that position.
  // For checkpoints, which must not delay commits. The caller holds graph_mu.
  template <class F>
  auto quiesce_journaling(F&& f) {
    resume_ingest guard{gate.get()};
    const std::uint64_t at = gate ? gate->hold() : (writer ? writer->last_journal_seq() : 0);
    flow->wait_idle();
    return f(at);
  }

  // Every node's state, the journal position and the strategy changes, in one transaction.
  void checkpoint();
  // The same with the graph quiet and graph_mu held: the graph has seen the journal through
  // `at`. Returns at.
  std::uint64_t write_checkpoint(std::uint64_t at);
  // The states operators see (BLOCKED below a FAILED node, PAUSED).
  std::vector<node_report> node_reports() const;
  // Records what the graph is now (live): meta strategies and graph hash, the snapshot server.
  void record_graph();

  // A change to the graph or a node (submit, remove, restart), with the graph quiet: journaled
  // first when live, then applied. In replay and catch-up, journaled changes come through
  // apply_control at their journal position. Both return the change's answer.
  nlohmann::json change(const Control& c);
  nlohmann::json apply_control(const Control& c);
};

// The admin commands of a running engine (runtime/engine/engine_admin.cpp).
std::shared_ptr<admin_backend> make_engine_admin(engine::impl& m);
std::string engine_metrics_text(engine::impl& m);
std::string starting_metrics_text(const engine::impl& m);

// What a submit or remove would do, without doing it (runtime/engine/engine_changes.cpp); call
// with graph_mu held. Throws admin_error when it cannot be done.
nlohmann::json engine_dry_submit(engine::impl& m, const std::string& text);
nlohmann::json engine_dry_remove(engine::impl& m, const std::string& strategy);
// The strategy name a strategy text declares (throws admin_error when it does not parse).
std::string strategy_name_of(const std::string& text);

}  // namespace shoal
