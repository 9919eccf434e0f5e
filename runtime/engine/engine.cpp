#include "runtime/engine/engine_impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>
#include <utility>

#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/journal_pull.hpp"
#include "runtime/engine/engine_scheduler.hpp"
#include "runtime/engine/failpoints.hpp"
#include "runtime/graph/kinds_meta.hpp"

namespace shoal {

namespace {
constexpr std::size_t replay_queue_bytes = std::size_t{8} << 20;
}  // namespace

// ---- engine::impl helpers --------------------------------------------------------------------

Value engine::impl::checkpoint_meta() const {
  if (!db) return Value{};
  auto meta = db->get_meta("checkpoint");
  return meta ? from_msgpack(*meta) : Value{};
}

void engine::impl::adopt_checkpoint_graph() {
  // Later changes are in the journal tail and come back in catch_up().
  const Value cp = checkpoint_meta();
  if (const Value* st = cp.find("strategies")) rt = runtime_strategies::from_value(*st);
  if (!rt.empty()) {
    cfg = apply_runtime_strategies(base_cfg, rt);
    graph = std::make_shared<const plan>(build_plan(cfg));
  }
}

void engine::impl::restore_from_cluster() {
  if (!cfg.cluster.checkpoints_in_cluster() || !checkpoint_meta().is_nil()) return;
  progress.phase = "restoring the cluster's checkpoint";
  checkpoint_restore r = restore_cluster_checkpoint(cfg.cluster, base_graph_hash, *db, *writer);
  std::lock_guard graph_lock(graph_mu);  // admin answers meanwhile
  restored = r;
  if (!r.restored) {
    spdlog::warn("cluster: no checkpoint restored ({}): the nodes start from the journal's start",
                 r.why_not);
    return;
  }
  adopt_checkpoint_graph();
  writer->put_meta("graph_hash", graph->graph_hash);
  if (r.previous)
    spdlog::warn(
        "cluster: engine {}'s last checkpoint in the cluster does not do ({}): this dir starts "
        "from the one before it",
        cfg.cluster.engine_id, r.latest_why_not);
  spdlog::info(
      "cluster: restored engine {}'s checkpoint at journal record {} from the cluster ({} nodes, "
      "{} bytes, {} ms): the nodes go on from there; their outputs before it are not in data dir "
      "{} (`shoal replay` of it makes them)",
      cfg.cluster.engine_id, r.journal_pos, r.nodes, r.bytes, r.ms, opt.data_dir);
}

std::unique_ptr<checkpoint_uploader> engine::impl::checkpoint_uploads(
    const journal_replicator* r, const std::string& writer_name, const std::string& name) const {
  // Without a replicator (a placed standby) the journal came from the cluster: all of it is there.
  std::function<std::uint64_t()> replicated = [] { return UINT64_MAX; };
  if (r) replicated = [r] { return r->stats().replicated; };
  try {
    return std::make_unique<checkpoint_uploader>(
        cfg.cluster, writer_name, std::move(replicated),
        [d = db.get()](std::uint64_t seq) { return d->journal_bytes(seq); }, name);
  } catch (const std::exception& e) {
    // A checkpoint only shortens a takeover; the journal is what must reach the cluster.
    spdlog::warn("cluster: checkpoints do not go to the cluster: {}", e.what());
    return nullptr;
  }
}

std::uint64_t engine::impl::checkpoint_position() const {
  const Value v = checkpoint_meta();
  const Value* pos = v.find("journal_pos");
  return pos && pos->is_int() ? static_cast<std::uint64_t>(pos->as_int()) : 0;
}

std::uint64_t engine::impl::seq_after(const std::string& id) const {
  std::uint64_t seq = 0;
  if (auto it = retired_seq.find(id); it != retired_seq.end()) seq = it->second;
  if (db) {
    if (writer) writer->flush();
    for (const auto& bytes : db->last_outputs(id, 1)) {
      seq = std::max(seq, decode_output(bytes, stored_data_limits()).seq);
    }
  }
  return seq;
}

std::optional<std::set<std::string>> listed_nodes(const Value& meta, const char* key) {
  std::optional<std::set<std::string>> ids;
  if (const Value* had = meta.find(key); had && had->is_list()) {
    ids.emplace();
    for (const auto& v : had->as_list())
      if (v.is_string()) ids->insert(v.as_string());
  }
  return ids;
}

std::shared_ptr<node_report> engine::impl::add_report(const plan_node& n) {
  return add_node_report(*board, n);
}

node_host_args engine::impl::node_args(std::shared_ptr<const plan> g, std::size_t i,
                                       std::shared_ptr<node_report> report,
                                       std::optional<std::string> checkpoint, bool warming) {
  node_host_args a;
  a.runner.graph = g;
  a.runner.index = i;
  a.runner.pub = opt.publish && publishes(i) ? pub : nullptr;
  a.runner.writer = writer;
  a.runner.digest = digests ? digests->chain(g->nodes[i].id) : nullptr;
  a.runner.board = board;
  a.runner.report = std::move(report);
  a.runner.latency = latency;
  a.runner.checkpoint = std::move(checkpoint);
  a.runner.warming = warming;
  a.runner.publish_after_commit = cfg.engine.publish_after_commit && live();
  a.runner.time_kernels = live();
  a.runner.digest_in_place = inline_mode();
  // Inline (a replay), the board is read when the replay ends, which reports every runner.
  if (inline_mode()) a.runner.report_every = inline_report_every;
  if (auto q = quiet_through.find(g->nodes[i].id); q != quiet_through.end())
    a.runner.quiet_through = q->second;
  if (a.runner.pub) {
    auto cut = std::make_shared<std::atomic<std::uint64_t>>(UINT64_MAX);
    publish_cuts[g->nodes[i].id] = cut;
    a.runner.publish_through = std::move(cut);
  }
  a.flow = flow;
  return a;
}

void engine::impl::spawn_nodes() {
  const auto& nodes = graph->nodes;
  std::map<std::string, std::string> saved;
  if (!checkpoint_meta().is_nil() && !rebuild) saved = db->all_state();
  std::vector<std::vector<subscriber>> subs(nodes.size());
  node_actors.resize(nodes.size());
  reports.resize(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    reports[i] = add_report(nodes[i]);
    if (!computes(i)) reports[i]->reason = "placed on " + placement->nodes.at(nodes[i].id);
  }
  if (inline_mode()) {
    std::vector<node_runner_args> runners;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      runners.push_back(node_args(graph, i, reports[i], std::nullopt, false).runner);
      (nodes[i].is_stream() ? counts.stream_actors : counts.node_actors) += 1;
    }
    inline_nodes = std::make_unique<inline_graph>(*graph, std::move(runners), *flow);
    return;
  }
  // Downstream first (reverse topological order), so each actor starts knowing its subscribers.
  for (std::size_t i = nodes.size(); i-- > 0;) {
    std::optional<std::string> state;
    if (auto it = saved.find(nodes[i].id); it != saved.end() && computes(i)) {
      state = it->second;
      restored_ids.insert(nodes[i].id);
    }
    auto args = node_args(graph, i, reports[i], std::move(state), false);
    args.subscribers = std::move(subs[i]);
    node_actors[i] = spawn_node_host(*sys, std::move(args));
    if (computes(i)) {
      for (std::size_t p = 0; p < nodes[i].inputs.size(); ++p)
        subs[nodes[i].inputs[p].upstream].push_back(
            {node_actors[i], static_cast<std::uint32_t>(p)});
    }
    (nodes[i].is_stream() ? counts.stream_actors : counts.node_actors) += 1;
  }
  if (!restored_ids.empty())
    spdlog::info("restored {} node checkpoints from {}", restored_ids.size(), opt.data_dir);
}

void engine::impl::make_ingest() {
  std::map<std::string, ingest_target, std::less<>> streams;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i)
    if (graph->nodes[i].is_stream())
      for (const auto& name : graph->nodes[i].names)
        streams[name] = {inline_nodes ? inline_nodes->inbox(i) : actor_inbox(node_actors[i]),
                         reports[i],
                         cfg.sources.at(*graph->nodes[i].source).kind != source_kind::cluster_node};
  ingest_options io;
  io.clock = &clk();
  io.latency = latency;
  io.reject_keep_bytes = static_cast<std::size_t>(cfg.engine.reject_keep_bytes);
  gate = std::make_shared<ingest>(std::move(streams), opt.live ? writer.get() : nullptr, *flow,
                                  board, io);
  // Journaled graph changes are applied where they were recorded (replay, catch-up).
  gate->on_control([this](const Control& c) {
    try {
      apply_control(c);
    } catch (const std::exception& e) {
      spdlog::error("journaled {} of {} could not be applied: {}", c.kind,
                    c.stream.empty() ? "the graph" : c.stream, e.what());
    }
  });
}

// After a restart: what the journal holds beyond the checkpoint goes through the graph again
// (outputs are rewritten with identical bytes, graph changes applied where they were recorded)
// before live input continues. sources_running: the sources started first and journal what
// arrives meanwhile (the gate in journal_only mode); the catch-up follows the journal's end
// until it is a batch away, then holds live input, forwards the rest and lets it through.
bool engine::impl::catch_up(bool sources_running) {
  if (!db) return true;
  const std::uint64_t from = rebuild ? 0 : checkpoint_position(), last = db->journal_last();
  const bool behind = last > from;
  progress.phase = "catching up";
  progress.through = from;
  progress.last = last;
  if (behind) {
    if (rebuild && pub) std::this_thread::sleep_for(resubscribe_grace);
    spdlog::info("catching up journal records {}..{} after {}{}", from + 1, last,
                 rebuild ? "a re-placement" : "the last checkpoint",
                 sources_running ? ", its sources journaling what arrives meanwhile" : "");
  }
  std::uint64_t pos = from;
  // A long catch-up checkpoints as live running does (every checkpoint_every buckets of event
  // time): a process killed again meanwhile, or over and over, starts from there next time
  // instead of reading the same stretch of journal again each time.
  const bool checkpoints = opt.checkpoint_every > 0 && !standby && min_interval > 0;
  std::int64_t checkpointed_ts = INT64_MIN;
  std::chrono::steady_clock::time_point said{};  // progress: at most once a second
  bool stopped = false;
  auto forward_through = [&](std::uint64_t end) {
    while (pos < end && !stopped) {
      std::uint64_t at = pos;  // the journal's records are numbered without a gap
      const auto batch = db->read_records(&pos, std::min<std::uint64_t>(4096, end - pos));
      if (batch.empty()) break;
      progress.last.store(std::max(end, db->journal_last()), std::memory_order_relaxed);
      for (const auto& r : batch) {
        if (opt.stop && opt.stop->load(std::memory_order_relaxed)) {
          stopped = true;
          pos = at;  // forwarded through here
          break;
        }
        flow->wait_below(4096);
        gate->forward(r);
        ++at;
        const auto* e = std::get_if<Event>(&r);
        if (!checkpoints || !e) continue;
        if (checkpointed_ts == INT64_MIN) checkpointed_ts = e->ts;
        if (e->ts - checkpointed_ts < opt.checkpoint_every * min_interval || any_paused) continue;
        flow->wait_idle();
        write_checkpoint(at);
        checkpointed_ts = last_checkpoint_ts = e->ts;
        if (const auto now = std::chrono::steady_clock::now();
            now - said >= std::chrono::seconds(1)) {
          writer->flush();  // what the line says is on the disk
          spdlog::info("catching up: through journal record {} of {}, checkpointed", at, end);
          said = now;
        }
      }
      progress.through.store(at, std::memory_order_relaxed);
    }
  };
  // Stopped part-way (a signal): the graph has seen the journal through pos. It checkpoints
  // there, so the next start goes on from it; what the sources journaled meanwhile (and what
  // is held) stays in the journal for that start, committed when the engine stops.
  // (Also with --checkpoint-every 0, which checkpoints at a stop: this is the stop's.)
  auto cut_short = [&] {
    flow->wait_idle();
    write_checkpoint(pos);
    spdlog::warn(
        "stopping in the catch-up, after journal record {} of {} (checkpointed there): what the "
        "sources journaled meanwhile is committed at the stop, and goes through the graph at the "
        "next start",
        pos, db->journal_last());
    return false;
  };
  forward_through(last);
  if (stopped) return cut_short();
  if (sources_running) {
    // A feed faster than the graph would keep the end moving for ever: a bounded number of
    // rounds, then the rest while live input is held.
    constexpr std::uint64_t batch = 4096;
    constexpr int rounds = 16;
    std::uint64_t end = db->journal_last();
    for (int round = 0; round < rounds && end > pos + batch && !stopped;
         ++round, end = db->journal_last())
      forward_through(end);
    if (stopped) return cut_short();
    const std::uint64_t through = gate->end_journal_only();
    writer->flush();  // everything through it committed, so readable
    forward_through(through);
    if (stopped) return cut_short();
    flow->wait_idle();
    gate->resume();  // what arrived since end_journal_only, in journal order
    if (behind)
      spdlog::info(
          "caught up through journal record {}: {} of them arrived from its sources "
          "while it caught up",
          through, through - last);
    return true;
  }
  flow->wait_idle();
  return true;
}

void engine::impl::start_sources() {
  if (opt.before_sources) opt.before_sources();
  std::set<std::size_t> fed;  // identical sources share their stream nodes: feed them once
  for (const auto& decl : cfg.sources) {
    bool fresh = false;
    for (const auto& st : decl.streams)
      fresh |= fed.insert(graph->by_name.at(decl.name + "." + st.name)).second;
    if (!fresh) continue;
    std::lock_guard lock(sources_mu);
    // Fenced (the lease lost while it started): none starts. fence() sets the flag before it
    // takes this lock to stop them, so a source started before it is stopped.
    if (fenced) return;
    threads.push_back(start_source(zmq_ctx, decl, cfg.cluster, gate, clk()));
    ++counts.source_feeds;
  }
}

void engine::impl::start_admin() {
  if (admin || !opt.live || (!db && cfg.engine.admin.empty() && cfg.engine.console.empty())) return;
  progress.engine = cfg.engine.name;
  progress.graph_hash = graph->graph_hash;
  admin_options ao;
  ao.unix_path = !cfg.engine.admin.empty() ? cfg.engine.admin
                 : db ? (std::filesystem::path(opt.data_dir) / "shoal.sock").string()
                      : std::string();  // a console without a data dir: no Unix socket
  ao.tcp = cfg.engine.admin_tcp;
  ao.token = cfg.engine.admin_token;
  ao.http = cfg.engine.metrics_http;
  ao.console = cfg.engine.console;
  ao.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(cfg.engine.admin_idle_timeout_ns));
  ao.http_idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(cfg.engine.metrics_idle_timeout_ns));
  admin = std::make_unique<admin_server>(ao, make_engine_admin(*this));
}

void engine::impl::stop_sources() {
  std::lock_guard lock(sources_mu);
  for (auto& t : threads) t->stop();
}

void engine::impl::keep_lease() {
  lease->on_lost([this] { fence(); });
}

// Another process is engine <engine_id> now: this one must neither ingest nor write the
// journal subject beside it.
void engine::impl::set_member_role(const char* role) {
  std::lock_guard lock(member_mu);
  if (member) member->set_role(role);
}

void engine::impl::report_journal() {
  if (!cfg.cluster.enabled) return;
  std::uint64_t journal = 0;
  std::int64_t lag_ms = 0;
  if (standby && follower) {
    // The follower is made at the start and never replaced: read without graph_mu, which its
    // checkpoints hold for a while.
    journal = follower->followed();
    lag_ms = follower->follow_lag().ms;
  } else {
    std::lock_guard graph_lock(graph_mu);  // a takeover replaces the replicator under it
    if (!replicator) return;
    const replication_stats s = replicator->stats();
    journal = s.committed;
    lag_ms = s.lag_ms;
  }
  std::lock_guard lock(member_mu);
  if (member) member->set_journal(journal, lag_ms);
}

void engine::impl::export_outputs() {
  if (!exporter) return;
  // A standby of the whole engine (members = 1, or outside a placement) publishes nothing of its
  // own, nor does a fenced process: the active one exports. A placed standby exports its nodes.
  std::set<std::string> ids;
  std::map<std::string, std::uint64_t> until;
  if (!fenced && !(standby && !placement)) {
    ids = own_ids();
    // The nodes it gave: the process they went to exports them from the subject's end, with
    // what its data dir holds from the checkpoint it took them from on. This one's exporter may
    // lag behind that checkpoint (a replication that lags holds outputs back): it goes on with
    // them until the stream holds them through the seq the other one said it publishes after.
    const auto done = exporter->given_through();
    std::lock_guard graph_lock(graph_mu);
    for (auto it = given_exported.begin(); it != given_exported.end();) {
      const auto d = done.find(it->first);
      if (ids.count(it->first) ||                          // back here
          (d != done.end() && d->second == it->second)) {  // the stream holds what it owed
        it = given_exported.erase(it);
        continue;
      }
      until.insert(*it);
      ids.insert(it->first);
      ++it;
    }
    for (const auto& [id, to] : giving) ids.insert(id);  // published here still
  }
  std::set<std::string> filling = ids.empty() ? std::set<std::string>{} : backfilling();
  exporter->export_nodes(std::move(ids), std::move(filling), std::move(until));
}

bool engine::impl::publishes(std::size_t i) const {
  if (!placement) return true;
  const plan_node& n = graph->nodes[i];
  if (n.is_stream()) return !standby;  // the ingesting process
  const auto it = placement->nodes.find(n.id);
  return it != placement->nodes.end() && it->second == instance;
}

void engine::impl::place_nodes_on_members() {
  if (cfg.cluster.enabled && cfg.cluster.members > 1) {
    if (!placeable) {
      spdlog::warn(
          "cluster: the graph was changed at runtime: placing its nodes on {} members is not "
          "built for a changed graph; this process computes every node",
          cfg.cluster.members);
    } else if (standby && member) {
      placements = std::make_unique<placement_channel>(cfg.cluster);
      // The active process places the nodes when it starts; a standby that comes later (or
      // runs another graph) is not in the placement and computes every node, ready to take over.
      // Generous: between taking the lease and writing the placement, the active process may
      // first pull a long journal tail from the stream.
      const auto wait = cfg.cluster.expiry_wait() + std::chrono::seconds(60);
      spdlog::info(
          "cluster: waiting for the placement of engine {}'s nodes (while no process is the "
          "engine, then up to {} s)",
          cfg.cluster.engine_id, wait.count() / 1000);
      auto r = placements->await(graph->graph_hash, wait);
      if (r && std::find(r->members.begin(), r->members.end(), instance) != r->members.end()) {
        placement = std::move(r);
      } else {
        spdlog::info(
            "cluster: this standby is not in the placement of engine {}: it computes every node "
            "and can take the engine over",
            cfg.cluster.engine_id);
        // The active process may give it nodes (a placed process is gone): follow_joining.
      }
    } else if (!standby) {
      placements = std::make_unique<placement_channel>(cfg.cluster);
      // A takeover places on the standbys running now: the engine ingests nothing meanwhile.
      const auto wait = std::max(cfg.cluster.expiry_wait(), std::chrono::milliseconds(10'000));
      placement = placements->choose(instance, lease->instance(), *graph, wait, !lease_handed,
                                     opt.reported);
    }
  }
  if (placement) computed = computed_by(placement_nodes(*graph), placement->nodes, instance);
  // A share new to this dir (a fresh dir, nodes handed to it, a standby that computed every node
  // joining): a checkpoint of it in the cluster soon.
  if (placement && !listed_nodes(checkpoint_meta(), "published")) checkpoint_soon = true;
  // A node must not start from a checkpoint that did not compute it: its state would be missing
  // and its seqs would start again. Placed, the nodes of a process that died came to it: a
  // standby starts them from that process's checkpoint in the cluster when it can
  // (restore_handed_nodes), else it rebuilds every node it computes from its journal; not placed
  // (a placed process back after its nodes moved, or its dir run alone), it computes every node
  // now and rebuilds.
  const Value cp = checkpoint_meta();
  auto listed = [&](const char* key) { return listed_nodes(cp, key); };
  std::vector<std::string> missing;
  if (const auto had = listed("computed"))
    for (std::size_t i = 0; i < graph->nodes.size(); ++i)
      if (computes(i) && !graph->nodes[i].is_stream() && !had->count(graph->nodes[i].id))
        missing.push_back(graph->nodes[i].name());
  // A placed dir: a node this process publishes now but did not when it last checkpointed (it
  // came from a process that died) — what the dir holds of it (an upstream copy, or nothing)
  // was never published: from the seq handed with it on (or the start), not from the dir's.
  std::set<std::string> new_here;
  if (listed("computed")) {
    const auto published = listed("published").value_or(std::set<std::string>{});
    for (std::size_t i = 0; i < graph->nodes.size(); ++i)
      if (publishes(i) && !graph->nodes[i].is_stream() && !published.count(graph->nodes[i].id))
        new_here.insert(graph->nodes[i].id);
  }
  // A node it publishes now but did not then: what it stored of it before the checkpoint was
  // never sent by it, and its owner may not have sent it all. Restored or rebuilt, it is sent
  // from the seq handed on with it (placed) or its start: duplicates, never a gap.
  if (!missing.empty() || !new_here.empty()) {
    checkpoint_soon = true;
    set_quiet_through(new_here);
    // The active process: once its sources run (start()), so that a feed is journaled meanwhile.
    if (!standby && placement && cfg.cluster.checkpoints && !new_here.empty()) {
      handed_after_sources = new_here;
      missing_after_sources = missing;
      finish_placing();
      return;
    }
    const handed_start how = restore_handed_nodes(new_here);
    if (how == handed_start::stopped) {
      stopped_in_start = true;  // its checkpoint stands as it was: the next start does it again
      return;
    }
    if (how == handed_start::rebuild) rebuild_from_journal(missing, new_here);
  }
  finish_placing();
}

void engine::impl::finish_placing() {
  if (cfg.cluster.enabled && standby) set_member_role("standby");  // no longer placing
  if (!placement) return;
  if (!standby) write_placement_now(*placement, true);
  placed_checkpoint_uploads();
  if (!standby) sweep_gone_checkpoints();
  std::size_t own = 0, copies = 0;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    if (graph->nodes[i].is_stream()) continue;
    own += publishes(i) ? 1 : 0;
    copies += computed[i] && !publishes(i) ? 1 : 0;
  }
  spdlog::info(
      "cluster: the nodes of engine {} are placed on {} processes; this one ({}) publishes {} of "
      "them and computes {} more upstream of them",
      cfg.cluster.engine_id, placement->members.size(), instance, own, copies);
}

// The placement gives this process nodes its checkpoint lacks. It publishes only what its
// subscribers may not have had: after the seq handed with a node that moved here, after the last
// one stored of a node it published before.
//
// rebuild_from_journal: every node it computes starts empty and goes through the whole local
// journal again (same outputs, same seqs) — when the handed nodes cannot start from their last
// process's checkpoint (restore_handed_nodes, engine_handover.cpp).
void engine::impl::set_quiet_through(const std::set<std::string>& new_here) {
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    if (!computes(i) || !publishes(i)) continue;
    const std::string& id = graph->nodes[i].id;
    if (!new_here.count(id)) {
      quiet_through[id] = seq_after(id);  // it published what it stored
    } else if (!placement) {
      // Its owner may have stopped before publishing all that this dir stored of it: all of it
      // again (the same bytes), never a gap.
    } else if (auto h = placement->handed.find(id); h != placement->handed.end()) {
      quiet_through[id] = h->second;
    }  // else nobody said what was published of it: all of it again
  }
}

void engine::impl::rebuild_from_journal(const std::vector<std::string>& missing,
                                        const std::set<std::string>& new_here) {
  rebuild = true;
  forget_backfill();  // every output is made again
  if (placement) {
    spdlog::warn(
        "cluster: this process publishes {} node(s) handed to it and computes {} its data dir's "
        "last checkpoint does not hold: it rebuilds every node it computes from its {} journal "
        "records",
        new_here.size(), missing.size(), db->journal_last());
  } else {
    spdlog::warn(
        "data dir {} last checkpointed with its nodes placed on several processes: this process "
        "publishes every node now, {} of them not published then and {} not computed, so it "
        "rebuilds every node from its {} journal records",
        opt.data_dir, new_here.size(), missing.size(), db->journal_last());
  }
}

void engine::impl::write_placement_now(const placement_record& r, bool patient) {
  placements->write(r, patient);
  placed_at = std::chrono::steady_clock::now();
}

// Every half second, placed: says what this process had published half a second before (sent
// by now, whatever it dies of); the active process moves the nodes of a process whose heartbeat
// expired, a standby restarts when its share changed (but for gives, follow_placement).
void engine::impl::keep_placement() {
  if (outside() && !restart && ticks % 25 == 0) follow_joining();
  if (!placement || !placements || restart) return;
  if (!standby && !fenced) place_lost_nodes();  // reads what the heartbeat listed: no I/O
  if (ticks % 25 != 0) return;
  const auto reports = board->snapshot();  // outside the lock fence() takes
  auto now = own_last_seqs(reports);
  auto costs = own_costs(reports);
  {
    std::lock_guard lock(member_mu);
    if (member) {
      member->set_published(std::move(published_before));
      member->set_costs(std::move(costs));
    }
  }
  published_before = std::move(now);
  offer_placed_uploads();
  if (standby) {
    follow_placement();
    cut_given();
  }
}

void engine::impl::cut_given() {
  {
    std::lock_guard graph_lock(graph_mu);
    if (giving.empty() && cut_pending.empty()) return;
  }
  std::vector<cluster_member> live;
  {
    std::lock_guard lock(member_mu);
    if (!member) return;
    live = member->members();
  }
  std::lock_guard graph_lock(graph_mu);
  if (!giving.empty()) stop_publishing_given(live);
  shed_cut_nodes();
}

std::set<std::string> engine::impl::own_ids() const {
  std::lock_guard graph_lock(graph_mu);
  std::set<std::string> own;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    const std::string& id = graph->nodes[i].id;
    if (publishes(i) && !graph->nodes[i].is_stream() && !unpublished.count(id)) own.insert(id);
  }
  return own;
}

member_published engine::impl::own_last_seqs(const std::vector<node_report>& reports) const {
  member_published now;
  const auto own = own_ids();
  for (const auto& r : reports)
    // Its outputs made, restored ones included: a node restored from a checkpoint (this one's, or
    // one brought forward and published after its handed seq) reports before its next output.
    // 0 too (a node that never fired): a process that gave it to this one learns that every
    // output of it is this one's to publish, and stops waiting (said_published).
    // Not below its quiet_through: this process publishes only the seqs after it, so a giver
    // told a lower seq (a receiver still catching up to the seq handed with the node) would
    // stop publishing there, and the seqs between would reach no subscriber.
    if (own.count(r.id)) now[r.id] = std::max(r.outputs, r.quiet_through);
  return now;
}

node_costs engine::impl::own_costs(const std::vector<node_report>& reports) {
  std::uint64_t events = 0;
  for (const auto& r : reports)
    if (r.stream) events += r.events_in;
  if (!cost_from.set) {  // from the first measure on: a rebuild's kernel time is out
    cost_from.set = true;
    cost_from.events = events;
    for (const auto& r : reports) cost_from.sum_s[r.id] = r.compute_sum_s;
    return {};
  }
  if (events < cost_from.events + 200) return {};
  double per = 1.0 / static_cast<double>(events - cost_from.events);
  try {
    per *= static_cast<double>(failpoint_cost_scale());
  } catch (const std::invalid_argument&) {  // a bad SHOAL_FAILPOINTS fails every node already
  }
  const auto own = own_ids();
  node_costs costs;
  for (const auto& r : reports) {
    if (!own.count(r.id)) continue;
    const double c = std::max(0.0, r.compute_sum_s - cost_from.sum_s[r.id]) * per;
    // Three significant digits: a placement weighs them, and the records stay small.
    if (std::isfinite(c)) costs[r.id] = std::stod(fmt::format("{:.3g}", c));
  }
  return costs;
}

void engine::impl::note_unpublished(const std::vector<std::string>& lost) {
  std::lock_guard graph_lock(graph_mu);
  unpublished = untaken;
  for (const auto& [id, process] : placement->nodes)
    if (std::find(lost.begin(), lost.end(), process) != lost.end()) unpublished.insert(id);
}

node_costs engine::impl::placement_costs(const std::vector<node_report>& reports) {
  node_costs costs;
  std::set<std::string> ids;  // this graph's only: the record stays as small as it can
  for (const auto& n : graph->nodes) ids.insert(n.id);
  for (const auto* from : {&placement->costs, &measured_costs})
    for (const auto& [id, cost] : *from)
      if (ids.count(id)) costs[id] = cost;
  for (const auto& [id, cost] : own_costs(reports)) costs[id] = cost;
  return costs;
}

void engine::impl::fence_overwritten() {
  // Only a process that took the lease since writes over this one's placement: this process is
  // no longer the engine, though its own lease renewal has not said so yet.
  spdlog::error(
      "cluster: the placement of engine {} was written by another process since this one wrote "
      "it (it took the engine's lease): this process stops ingesting and placing",
      cfg.cluster.engine_id);
  fence();
}

void engine::impl::place_lost_nodes() {
  std::vector<cluster_member> live;
  {
    std::lock_guard lock(member_mu);
    // Only a listing begun after the placement was written knows every member it names; each
    // listing is acted on once (a write that failed is tried again with the next one). While a
    // take runs, the placement it wrote is not done yet: the listing after it then (the cuts
    // below go on meanwhile).
    if (!member) return;
    const auto read_at = member->members_read_at();
    if (read_at <= placed_at || read_at == listing_acted_on) return;
    if (!taking) listing_acted_on = read_at;
    live = member->members();
  }
  {
    // What it gave a standby, once that one publishes it: whatever else this listing brings.
    std::lock_guard graph_lock(graph_mu);
    if (!giving.empty()) stop_publishing_given(live);
    shed_cut_nodes();
    // A give (of its nodes or the standbys') is over once the joiner said it published every
    // node moved to it, or is gone, or after give_limit.
    const bool gone = std::none_of(live.begin(), live.end(), [&](const cluster_member& m) {
      return m.instance == joining_to;
    });
    for (auto it = joining.begin(); it != joining.end();) {
      const bool said = said_published(live, joining_to, *it).has_value();
      if (said) given_from.erase(*it);  // its giver cuts it: it is the joiner's
      const bool done = said || gone || std::chrono::steady_clock::now() - joined_at > give_limit;
      it = done ? joining.erase(it) : std::next(it);
    }
  }
  if (taking) return;
  if (settle_unsure() == unsure_state::landed) return;  // this listing acted on
  std::set<std::string> alive;
  // This process takes only what no standby can (it takes them while it runs, engine_take.cpp),
  // and one that stopped (away) none: it may come back for its own, or be gone for good. This one
  // first: taken out of `closed` below.
  std::vector<std::string> closed{instance};
  for (auto& mb : live) {
    alive.insert(mb.instance);
    if (mb.role == away_role) closed.push_back(mb.instance);
    note_published(last_published, mb.instance, mb.published);
    if (mb.graph == graph->graph_hash)
      for (const auto& [id, cost] : mb.costs) measured_costs[id] = cost;
  }
  if (!alive.count(instance)) return;
  std::vector<std::string> lost;
  for (const auto& mb : placement->members)
    if (mb != instance && !alive.count(mb)) lost.push_back(mb);
  if (lost.empty()) {
    {
      std::lock_guard graph_lock(graph_mu);
      if (!untaken.empty()) {  // its own: until a restart
        refuse_move("a take of a lost process's nodes failed here: nothing moves until a restart");
        return;
      }
      if (!unpublished.empty()) {
        spdlog::info(
            "cluster: the placed process of the {} node(s) nobody published is back: it "
            "publishes them again once it has caught up",
            unpublished.size());
        unpublished.clear();
        return;
      }
    }
    // To a standby that joined, if any (engine_give.cpp). Its write unsure, or an earlier one
    // found landed: a move now would be placed without it.
    if (give_nodes(live)) return;
    rebalance(live);   // by measured cost, if [cluster] rebalance_above (engine_give.cpp)
    move_node(live);   // asked by an operator or by rebalance, if any (engine_give.cpp)
    return;
  }
  placement_record next;
  try {
    // The lost nodes go where they add the least measured cost.
    node_costs costs = placement_costs(board->snapshot());
    const auto nodes = placement_nodes(*graph, costs);
    try {
      next = place_after_loss(nodes, *placement, lost, last_published, closed);
    } catch (const std::runtime_error&) {
      // No standby can take them: this process does, while it runs ([cluster] active_takes),
      // unless a take failed here already.
      bool failed_here = false;
      {
        std::lock_guard graph_lock(graph_mu);
        failed_here = !untaken.empty();
      }
      if (!cfg.cluster.active_takes || failed_here) throw;
      closed.erase(closed.begin());  // this one
      next = place_after_loss(nodes, *placement, lost, last_published, closed);
    }
    next.costs = std::move(costs);
    // A node a lost standby joining was given and never said it published goes back to the
    // process that gave it, if that one lives: it still publishes it (it cut nothing).
    for (auto& [id, mb] : next.nodes) {
      const auto was = placement->nodes.find(id);
      const auto from = given_from.find(id);
      if (was == placement->nodes.end() || from == given_from.end() ||
          std::find(lost.begin(), lost.end(), was->second) == lost.end() ||
          !alive.count(from->second) ||
          std::find(next.members.begin(), next.members.end(), from->second) == next.members.end())
        continue;
      // Said with seq 0 too (a node that never fired): its giver cut it at 0.
      if (const auto said = last_published.find(was->second);
          said != last_published.end() && said->second.count(id))
        continue;
      mb = from->second;
      next.handed[id] = placement->handed.count(id) ? placement->handed.at(id) : 0;
      next.handed_from[id] = from->second;
    }
  } catch (const std::runtime_error& e) {
    if (!lost_reported)
      spdlog::error("cluster: placed process(es) {} stopped: {}; their nodes are not published",
                    lost.front(), e.what());
    lost_reported = true;
    note_unpublished(lost);
    return;
  }
  placement_write written = placement_write::unknown;
  auto finish = [this, next, lost]() mutable { placed_after_loss(std::move(next), lost); };
  try {
    written = update_placement(next);  // not patient: the runner waits; again next listing
  } catch (const cluster_error& e) {
    if (!lost_reported)
      spdlog::warn(
          "cluster: writing the placement after {} stopped: {} (read back, or written again, at "
          "each listing)",
          lost.front(), e.what());
    lost_reported = true;
    note_unpublished(lost);  // until a write goes through, nobody publishes them either
    add_unsure(e, std::move(next), std::move(finish));
    return;
  }
  // An earlier write's fate first: until it is known, nobody publishes them either.
  if (written == placement_write::unknown) note_unpublished(lost);
  if (went_through(written)) finish();
}

bool engine::impl::went_through(placement_write w) {
  switch (w) {
    case placement_write::settled:  // an earlier write landed, and placed: the next listing
    case placement_write::unknown:  // an earlier write's fate first: the next listing
      return false;
    case placement_write::overwritten:
      fence_overwritten();
      return false;
    case placement_write::written:
      break;
  }
  return true;
}

void engine::impl::placed_after_loss(placement_record next, const std::vector<std::string>& lost) {
  placed_at = std::chrono::steady_clock::now();
  std::lock_guard graph_lock(graph_mu);
  unpublished = untaken;
  std::map<std::string, std::size_t> moved;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    const std::string& id = graph->nodes[i].id;
    const auto was = placement->nodes.find(id);
    if (was == placement->nodes.end() ||
        std::find(lost.begin(), lost.end(), was->second) == lost.end())
      continue;
    const std::string& to = next.nodes.at(id);
    ++moved[to];
    // Given back (published here all along: giving still has it), or to be taken here (the
    // take clears the reason) or elsewhere.
    board->update(reports[i], [&](node_report& r) {
      r.reason = to == instance && giving.count(id) ? "" : "placed on " + to;
    });
  }
  for (const auto& [to, n] : moved)
    spdlog::warn("cluster: placed process {} stopped heartbeating: {} of its nodes go to {}",
                 lost.front(), n, to);
  for (const auto& mb : lost) last_published.erase(mb);
  for (auto it = given_from.begin(); it != given_from.end();) {  // moved on from the joiner
    const auto was = placement->nodes.find(it->first);
    const bool moved = was == placement->nodes.end() ||
                       std::find(lost.begin(), lost.end(), was->second) != lost.end();
    it = moved ? given_from.erase(it) : std::next(it);
  }
  // Nodes this one gave a standby that died before publishing them: this one still publishes
  // them. Back here, there is nothing to take; gone to another standby, this one publishes them
  // until that one does.
  std::set<std::string> back;
  std::string back_from;  // the joiner they were given to
  for (auto it = giving.begin(); it != giving.end();) {
    if (std::find(lost.begin(), lost.end(), it->second) == lost.end()) {
      ++it;
    } else if (const std::string& to = next.nodes.at(it->first); to == instance) {
      back.insert(it->first);
      back_from = it->second;
      it = giving.erase(it);
    } else {
      it->second = to;
      ++it;
    }
  }
  if (!back.empty()) {
    spdlog::warn(
        "cluster: {} node(s) this process gave standby {}, which died before publishing them, "
        "are placed on it again: it goes on publishing them",
        back.size(), back_from);
    checkpoint_soon = true;  // one that says it publishes them, for its heir
  }
  std::set<std::string> taken;
  for (const auto& [id, mb] : next.nodes)
    if (const auto was = placement->nodes.find(id); mb == instance &&
                                                    was != placement->nodes.end() &&
                                                    was->second != instance && !back.count(id))
      taken.insert(id);
  placement = std::move(next);
  lost_reported = false;
  if (!taken.empty()) {
    unpublished.insert(taken.begin(), taken.end());  // until they are live here
    take_nodes(std::move(taken));
  }
}

engine::impl::placement_write engine::impl::update_placement(const placement_record& next) {
  switch (settle_unsure()) {
    case unsure_state::landed:  // what this listing placed came from the placement before it
      return placement_write::settled;
    case unsure_state::unknown:  // a write now could go over one that landed unseen
      return placement_write::unknown;
    case unsure_state::none:
    case unsure_state::absent:
      break;
  }
  try {
    if (!ack_lost && failpoint_flag("placement_ack_lost")) {
      ack_lost = true;
      placements->lose_next_ack();
    }
  } catch (const std::invalid_argument&) {  // a bad SHOAL_FAILPOINTS fails every node already
  }
  using result = placement_channel::update_result;
  result r = placements->update(next);
  if (r == result::unsure_landed) {
    // One landed since the read above: acted on as if found there (`next` came from the
    // placement before it). One no longer kept (past max_unsure) is written over.
    switch (settle_unsure()) {
      case unsure_state::landed:
        return placement_write::settled;
      case unsure_state::unknown:
        return placement_write::unknown;
      case unsure_state::none:
      case unsure_state::absent:
        r = placements->update(next, true);
        break;
    }
  }
  if (r != result::written) return placement_write::overwritten;
  // Over the unsure ones (none there when read just now): settled.
  unsure.clear();
  unsure_said = false;
  return placement_write::written;
}

bool engine::impl::add_unsure(const cluster_error& e, placement_record next,
                              std::function<void()> landed) {
  // Not stored: placed anew at the next listing.
  if (dynamic_cast<const placement_refused*>(&e)) return false;
  if (unsure.size() >= max_unsure) {
    spdlog::warn(
        "cluster: {} placements written without an acknowledgement are kept: the oldest is "
        "dropped",
        unsure.size());
    unsure.erase(unsure.begin());
  }
  unsure.push_back({std::move(next), std::move(landed)});
  return true;
}

engine::impl::unsure_state engine::impl::settle_unsure() {
  if (unsure.empty()) return unsure_state::none;
  std::vector<placement_record> written;
  for (const auto& u : unsure) written.push_back(u.next);
  std::optional<std::size_t> held;
  try {
    held = placements->holds_one(written);
  } catch (const cluster_error& e) {  // asked again at the next listing
    spdlog::debug("cluster: reading back the placement written without an acknowledgement: {}",
                  e.what());
    return unsure_state::unknown;
  }
  if (!held) {
    // Not in the cluster, or not yet: kept, in case one lands later. A write goes over them.
    if (!std::exchange(unsure_said, true))
      spdlog::info(
          "cluster: the placement written without an acknowledgement is not in the cluster (yet): "
          "placing from the last one written meanwhile");
    return unsure_state::absent;
  }
  auto landed = std::move(unsure[*held].landed);
  unsure.clear();
  unsure_said = false;
  // The standbys act on it already: this process does too, as after a write acknowledged.
  spdlog::info(
      "cluster: the placement written without an acknowledgement is in the cluster: going on "
      "from it");
  landed();
  return unsure_state::landed;
}

std::optional<placement_record> engine::impl::read_placement() {
  try {
    return placements->read(graph->graph_hash);
  } catch (const cluster_error& e) {  // again in half a second
    spdlog::debug("cluster: reading the placement of engine {}: {}", cfg.cluster.engine_id,
                  e.what());
    return std::nullopt;
  }
}

void engine::impl::follow_placement() {
  auto r = read_placement();
  if (!r) return;
  if (std::find(r->members.begin(), r->members.end(), instance) == r->members.end()) {
    // Taken for gone (its heartbeat lapsed): its nodes are another's now. It goes on as it is
    // (the same outputs as theirs, the same seqs and bytes); a restart would be refused.
    if (!evicted)
      spdlog::error(
          "cluster: this process was taken for gone and its nodes placed elsewhere; it goes on "
          "publishing them (duplicates of the same bytes) until it is stopped");
    evicted = true;
    return;
  }
  auto mine = [&](const node_placement& p) {
    std::set<std::string> ids;
    for (const auto& [id, mb] : p)
      if (mb == instance) ids.insert(id);
    return ids;
  };
  const std::set<std::string> now = mine(r->nodes), was = mine(placement->nodes);
  std::lock_guard graph_lock(graph_mu);
  // Nodes it gave that went on from the joiner to another process (the joiner died after saying
  // it published them, before this one cut them): cut once that one publishes them.
  for (auto& [id, to] : giving)
    if (const auto n = r->nodes.find(id); n != r->nodes.end() && n->second != instance)
      to = n->second;
  if (now == was) return;
  // Gives and takes back need no restart: it computes every node it gave and has not cut. It
  // gave nodes to a standby joining (each placed on a process the last placement did not have)
  // or one node to another placed process (admin move: handed on from this one), or takes back
  // those it gave and still publishes (the joiner died before publishing them).
  bool shed_only = true;
  bool moved = false;  // to a placed process
  for (const auto& id : was) {
    if (now.count(id)) continue;
    const auto to = r->nodes.find(id);
    const auto from = r->handed_from.find(id);
    if (to == r->nodes.end() || to->second == instance) {
      shed_only = false;
    } else if (std::find(placement->members.begin(), placement->members.end(), to->second) !=
               placement->members.end()) {
      if (from == r->handed_from.end() || from->second != instance) shed_only = false;
      moved = true;
    }
  }
  for (const auto& id : now)
    if (!was.count(id) && !giving.count(id)) shed_only = false;
  if (shed_only) {
    std::size_t back = 0;
    for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
      const std::string& id = graph->nodes[i].id;
      if (!now.count(id) || was.count(id)) continue;
      back += giving.erase(id);
      board->update(reports[i], [](node_report& r) { r.reason.clear(); });
    }
    std::string joiner;
    std::set<std::string> given;
    for (const auto& id : was)
      if (!now.count(id)) {
        joiner = r->nodes.find(id)->second;  // there: checked above
        given.insert(id);
      }
    if (back > 0) {
      spdlog::warn(
          "cluster: {} node(s) this process gave a standby that died before publishing them are "
          "placed on it again: it goes on publishing them",
          back);
      checkpoint_soon = true;  // one that says it publishes them, for its heir
    }
    if (!given.empty()) {
      if (moved)
        spdlog::warn(
            "cluster: {} of this process's nodes move to placed process {} (admin move, or a "
            "rebalance): this one publishes them until it does",
            given.size(), joiner);
      else
        spdlog::warn(
            "cluster: {} of this process's nodes go to standby {} joining the placement of "
            "engine {}: this one publishes them until it does",
            given.size(), joiner, cfg.cluster.engine_id);
      start_giving(std::move(*r), joiner, 0, given);
    } else {
      placement = std::move(*r);
    }
    return;
  }
  spdlog::warn(
      "cluster: the nodes placed on this process changed (a placed process stopped, or a node "
      "moved to it): it "
      "restarts on its data dir to compute them");
  restart = true;
}

void engine::impl::fence() {
  fenced = true;
  set_member_role("fenced");  // `shoal tail --cluster` takes no catch-up from it
  stop_sources();
  if (uploader) uploader->stop();  // its successor's checkpoints stand
  if (sweeper) sweeper->stop();    // and it removes no more
  if (replicator) replicator->stop(std::chrono::milliseconds(0));
}

void engine::impl::follow_journal() {
  journal_follower::hooks h;
  h.record = [this, checkpointed_ts = std::int64_t{INT64_MIN}](std::uint64_t seq,
                                                               std::string&& bytes) mutable {
    const journal_record r = decode_journal_record(bytes);
    flow->wait_below(4096);
    const bool change = std::holds_alternative<Control>(r);
    append_to_journal(*writer, std::move(bytes));
    if (writer->last_journal_seq() != seq)
      throw std::runtime_error("standby: journal record " + std::to_string(seq) +
                               " went to local seq " + std::to_string(writer->last_journal_seq()));
    if (change) flow->wait_idle();  // a graph change applies to a quiet graph, as in catch_up
    gate->forward(r);
    // A standby checkpoints as the active engine does (every checkpoint_every buckets of event
    // time), here where the journal's position is known: one killed and started again on its
    // dir goes on from there, not from its last clean stop.
    const auto* e = std::get_if<Event>(&r);
    if (!e || opt.checkpoint_every <= 0 || min_interval <= 0) return;
    if (checkpointed_ts == INT64_MIN) checkpointed_ts = e->ts;
    if (!checkpoint_soon && e->ts - checkpointed_ts < opt.checkpoint_every * min_interval) return;
    std::lock_guard graph_lock(graph_mu);  // admin commands change the nodes under it
    if (any_paused) return;                // a paused node's held inputs are in no checkpoint
    flow->wait_idle();
    write_checkpoint(seq);
    checkpointed_ts = e->ts;
  };
  h.local_record = [this](std::uint64_t seq) { return db->journal_bytes(seq); };
  h.local_dir = db->dir();
  // A share that just changed is checkpointed at once also when no record comes (a market
  // closed): its heir would find only a checkpoint of the share before, which it refuses.
  h.idle = [this] {
    if (!checkpoint_soon || opt.checkpoint_every <= 0 || min_interval <= 0) return;
    std::lock_guard graph_lock(graph_mu);
    if (any_paused || !caught_up) return;
    flow->wait_idle();
    write_checkpoint(writer->last_journal_seq());  // every record appended went through the graph
  };
  h.promoted = [this](std::unique_ptr<engine_lease> l) {
    bool in_place = false;
    {
      // A standby outside the placement that follow_joining set restarting (the active process
      // placed nodes on it, then died) restarts as the active process, as a placed one does.
      std::lock_guard graph_lock(graph_mu);
      in_place = computed.empty() && !restart;
      promoted_in_place = in_place;  // follow_joining restarts it no more
    }
    if (in_place) {
      take_over(std::move(l));
      return;
    }
    // It computes only its share: it starts again as the active process, placing the nodes
    // anew (the dead one's among them) and rebuilding what it did not compute from its journal.
    spdlog::warn(
        "cluster: this placed standby took engine {}'s lease: it restarts as the active process",
        cfg.cluster.engine_id);
    {
      std::lock_guard lock(member_mu);
      handoff = std::move(l);
      // The dead process's key may expire before the next start places: what it said it
      // published goes with its nodes all the same (no seq published again from the start).
      if (member) {
        // A process that stopped cleanly wrote what it published last just before it gave the
        // lease up, most likely after this one's last listing (its key may be gone by the next
        // start's placement): read now.
        try {
          member->list_now();
        } catch (const cluster_error& e) {
          spdlog::warn(
              "cluster: listing the members at the takeover: {} (what they said before "
              "goes with their nodes)",
              e.what());
        }
        handoff_reports = member->published_seen();
        // publish_after_commit: the active process's outputs waited for the cluster's acks, so
        // what it said it made may not all have been sent: its nodes go again from their start.
        if (cfg.engine.publish_after_commit)
          for (const auto& gone : member->seen_as("active")) handoff_reports.erase(gone);
      }
    }
    restart = true;
  };
  // The follower checks that the stream holds this dir's last record.
  const std::uint64_t last = db->journal_last();
  follower = std::make_unique<journal_follower>(cfg.cluster, last,
                                                db->journal_bytes(last).value_or(""), std::move(h));
}

// publish_after_commit in cluster mode: an output is released once the cluster acknowledged the
// journal records it read, not at the local commit.
void engine::impl::follow_cluster_acks() {
  if (!pub || !cfg.engine.publish_after_commit) return;
  release_on_cluster_ack = true;
  replicator->on_replicated([pub = pub](std::uint64_t seq) { pub->committed(seq); });
}

// The standby becomes the active engine: everything the old one put in the stream has gone
// through the graph; its journal continues from here, with this process's sources.
void engine::impl::take_over(std::unique_ptr<engine_lease> l) {
  flow->wait_idle();
  writer->flush();
  std::unique_ptr<journal_replicator> r;
  try {
    // Outside graph_mu (admin `cluster` answers meanwhile): connecting may take a while.
    r = std::make_unique<journal_replicator>(cfg.cluster, *db, writer, opt.config_text);
  } catch (...) {
    l->release();  // another standby may do better
    throw;
  }
  // Connects: outside graph_mu too.
  auto u =
      cfg.cluster.checkpoints_in_cluster() ? checkpoint_uploads(r.get(), l->instance()) : nullptr;
  std::lock_guard graph_lock(graph_mu);
  lease = std::move(l);
  replicator = std::move(r);
  replicating = replicator.get();
  if (exporter) replicator->on_replicated(exporter->waker());
  uploader = std::move(u);
  follow_cluster_acks();
  gate->resume_from(*db);
  standby = false;  // the engine now: it places, it is not placed (outside() no more)
  set_member_role("active");
  start_sources();
  keep_lease();
  spdlog::info("cluster: this process is engine {} now, its journal continuing after record {}",
               cfg.cluster.engine_id, db->journal_last());
}

std::vector<node_report> engine::impl::node_reports() const {
  return effective_reports(*graph, board->snapshot());
}

void engine::impl::record_graph() {
  if (snapshots) snapshots->set_graph(graph);
  if (!writer || !live()) return;
  writer->put_meta("strategies", to_msgpack(rt.to_value()));
  writer->put_meta("graph_hash", graph->graph_hash);
  writer->put_meta("kinds",
                   kinds_meta(*graph, read_kinds_meta(db ? db->get_meta("kinds") : std::nullopt)));
}

// ---- engine ----------------------------------------------------------------------------------

engine::engine(config cfg, plan p, engine_options o) : impl_(std::make_unique<impl>()) {
  impl_->base_cfg = cfg;
  impl_->cfg = std::move(cfg);
  impl_->graph = std::make_shared<const plan>(std::move(p));
  impl_->opt = std::move(o);
  for (const auto& s : impl_->cfg.sources)
    if (impl_->min_interval == 0 || s.interval_ns < impl_->min_interval)
      impl_->min_interval = s.interval_ns;
}

engine::~engine() { stop(); }

void engine::start() {
  auto& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.progress.began = std::chrono::steady_clock::now();  // before the admin thread reads it
  // One writer per data dir, taken before anything else: a second engine on the dir is told so,
  // not that the first one's ports are busy.
  if (!m.opt.data_dir.empty()) m.lock = std::make_unique<dir_lock>(m.opt.data_dir);
  if (m.live()) m.latency = std::make_shared<stage_latency>();
  // CURVE keys are checked before anything binds: a secret readable by others stops the start.
  for (const auto& src : m.cfg.sources)
    if (!src.curve_secret_key_file.empty()) read_secret_curve_file(src.curve_secret_key_file);
  // CURVE: the handler exists before any secured socket does (a handshake must find it).
  if (!m.cfg.engine.curve_secret_key_file.empty() && (m.opt.publish || m.opt.live))
    m.zap =
        std::make_shared<zap_handler>(m.zmq_ctx, m.cfg.engine.curve_allowed_clients,
                                      read_secret_curve_file(m.cfg.engine.curve_secret_key_file));
  if (m.opt.publish)
    m.pub = std::make_shared<publisher>(
        m.zmq_ctx, m.cfg.engine.publish, static_cast<int>(m.cfg.engine.publish_hwm),
        m.cfg.engine.publish_tracked, std::size_t{1} << 20, m.latency, m.zap);
  // A key taken out of the allow-list cuts its subscriber off: sessions close, the allowed
  // reconnect through a new handshake.
  // (A weak pointer: the publisher holds the handler, the handler must not hold the publisher.)
  if (m.zap && m.pub)
    m.zap->on_keys_removed([pub = std::weak_ptr<publisher>(m.pub)] {
      if (auto p = pub.lock()) p->drop_sessions();
    });
  if (!m.opt.data_dir.empty()) {
    m.progress.phase = "opening its data dir";
    const bool existed = store::exists(m.opt.data_dir);
    // A replay's --out may reach the disk once, when the replay ends, not one fdatasync pair
    // per transaction; what a live engine acknowledges must be on the disk at each commit.
    m.db = std::make_unique<store>(m.opt.data_dir, true,
                                   m.opt.live ? store_sync::every_commit : m.opt.data_sync);
    auto commit = m.opt.commit;
    if (!commit.clock) commit.clock = &m.clk();
    // Live, the queue absorbs bursts while a commit runs; a replay is bound by the writer
    // anyway, and a smaller queue recycles its memory instead of faulting in fresh pages
    // (measured: same wall time, a third less CPU, 165 instead of 290 MB peak).
    if (!m.opt.live) commit.max_queue_bytes = std::min(commit.max_queue_bytes, replay_queue_bytes);
    m.writer = std::make_shared<store_writer>(*m.db, commit);
    m.base_graph_hash = m.graph->graph_hash;
    if (m.opt.live) {
      m.adopt_checkpoint_graph();
      const Value cp = m.checkpoint_meta();
      if (existed) {
        const Value* pos = cp.find("journal_pos");
        spdlog::info(
            "resuming data dir {}: {} journal records, last checkpoint at journal "
            "position {}{}",
            m.opt.data_dir, m.db->journal_last(), pos && pos->is_int() ? pos->as_int() : 0,
            m.rt.empty() ? "" : ", with strategy changes made at runtime");
      }
    }
    m.writer->put_meta("engine_version", SHOAL_ENGINE_VERSION);
    m.writer->put_meta("kinds", kinds_meta(*m.graph, read_kinds_meta(m.db->get_meta("kinds"))));
    if (m.live() && m.db->journal_last() == 0 && !m.db->get_meta(store::controls_meta))
      m.writer->put_meta(store::controls_meta, "0");  // none yet: replay need not look
    m.writer->put_meta("base_graph_hash", m.base_graph_hash);
    m.writer->put_meta("graph_hash", m.graph->graph_hash);
    if (!m.opt.config_text.empty()) m.writer->put_meta("config", m.opt.config_text);
    // The graph as it starts is known (the checkpoint's strategy changes applied): from here
    // on the admin endpoints say what the start waits for, and how far a catch-up got.
    m.start_admin();
    if (m.opt.live && m.cfg.cluster.enabled && !m.opt.standby) {
      m.progress.phase = "waiting for the engine's lease";
      // One process at a time is engine <engine_id>: a restart after a kill waits for the old
      // lease to expire; a live holder elsewhere stops this start.
      if (m.opt.lease) {  // a placed standby that took the lease, restarted to be the engine
        m.lease = std::move(m.opt.lease);
        m.lease_handed = true;
        if (!m.lease->held())
          throw std::runtime_error("cluster: the lease of engine " + m.cfg.cluster.engine_id +
                                   " was lost while this process restarted to take it over");
      } else {
        m.lease = std::make_shared<engine_lease>(m.cfg.cluster);
        if (!m.lease->acquire(m.cfg.cluster.expiry_wait()))
          throw std::runtime_error("cluster: engine " + m.cfg.cluster.engine_id +
                                   " is running elsewhere (" + m.lease->holder() +
                                   "); start this one with --standby to take over when it stops");
      }
      m.progress.phase = "taking the journal's tail from the cluster";
      const std::uint64_t had = m.db->journal_last();
      m.replicator =
          std::make_unique<journal_replicator>(m.cfg.cluster, *m.db, m.writer, m.opt.config_text);
      m.replicating = m.replicator.get();
      // A new host's empty dir: the nodes start from the cluster's checkpoint, not from the
      // journal's start (outputs before it are not in this dir; a replay of it makes them).
      if (had == 0 && m.db->journal_last() > 0) m.restore_from_cluster();
      auto uploader = m.cfg.cluster.checkpoints_in_cluster()
                          ? m.checkpoint_uploads(m.replicator.get(), m.lease->instance())
                          : nullptr;
      std::lock_guard graph_lock(m.graph_mu);
      m.uploader = std::move(uploader);
    }
  }
  m.start_admin();  // an engine without a data dir (admin or console only)
  if (m.opt.live && m.cfg.cluster.enabled && !m.db)
    throw std::runtime_error("[cluster] needs a data dir: the journal goes to the cluster from it");
  if (m.opt.live && m.cfg.cluster.enabled) {
    // The process's name in the cluster is its data dir's: a restart is placed what it computed.
    auto kept = m.db->get_meta("cluster_instance");
    m.instance = kept ? *kept : new_member_instance();
    if (!kept) m.writer->put_meta("cluster_instance", m.instance);
    m.placeable = m.rt.empty() && !m.db->journal_has_graph_changes();
  }
  if (m.opt.standby && !m.cfg.cluster.enabled)
    throw std::runtime_error(
        "--standby needs a [cluster] table: it follows an engine's journal "
        "in the cluster");
  m.standby = m.opt.standby;
  // publish_after_commit: an output waits until the journal records it read are committed —
  // in cluster mode, until the cluster acknowledged them.
  if (m.pub && m.writer && m.opt.live && m.cfg.engine.publish_after_commit) {
    if (m.replicator) {
      m.follow_cluster_acks();
    } else {
      // A standby releases on the local commit until it takes over and replicates.
      m.writer->on_commit([&m, pub = m.pub](std::uint64_t seq) {
        if (!m.release_on_cluster_ack) pub->committed(seq);
      });
    }
  }
  // Inline, every node adds its outputs from the replay's thread.
  if (m.opt.digest) m.digests = std::make_shared<digest_board>(true, m.inline_mode());
  m.sys_cfg = std::make_unique<caf::actor_system_config>();
  set_scheduler_config(m.cfg.engine, *m.sys_cfg);
  m.sys = std::make_unique<caf::actor_system>(*m.sys_cfg);
  if (m.opt.live && m.db && !m.cfg.engine.snapshot.empty())
    m.snapshots = std::make_unique<snapshot_server>(m.zmq_ctx, m.cfg.engine.snapshot, m.graph,
                                                    *m.db, m.writer, m.zap.get());
  // Say where this process publishes before a takeover can change its role (the follower's
  // thread takes over): `shoal tail --cluster` subscribes to every member.
  if (m.opt.live && m.cfg.cluster.enabled && m.pub) {
    const std::string pub_ep = advertised_endpoint(m.pub->endpoint());
    if (loopback_endpoint(pub_ep))
      spdlog::warn(
          "cluster: this process publishes on {}, which other hosts cannot reach: `shoal tail "
          "--cluster` follows it on this host only ([engine] publish on the host's address, or *)",
          pub_ep);
    std::lock_guard lock(m.member_mu);
    m.member = std::make_unique<member_heartbeat>(
        m.cfg.cluster,
        cluster_member{m.instance,
                       !m.standby                                 ? "active"
                       : m.cfg.cluster.members > 1 && m.placeable ? placing_role
                                                                  : "standby",
                       pub_ep,
                       m.snapshots ? advertised_endpoint(m.snapshots->endpoint()) : "",
                       m.graph->graph_hash,
                       {},
                       {}});
  }
  if (m.opt.live && m.db && m.cfg.cluster.enabled && m.cfg.cluster.stream_outputs) {
    try {
      // Null while a standby: its journal came from the stream.
      m.exporter = std::make_unique<output_exporter>(m.cfg.cluster, *m.db, [&m] {
        const journal_replicator* r = m.replicating.load();
        return r ? r->stats().replicated : UINT64_MAX;
      });
      // A pass at each commit (outputs stored) and each acknowledgement of the journal (outputs
      // free to go), not at the next poll: the stream's readers get them a few ms later than
      // the ZeroMQ subscribers, not tens.
      if (m.writer) m.writer->on_commit(m.exporter->waker());
      if (m.replicator) m.replicator->on_replicated(m.exporter->waker());
    } catch (const std::exception& e) {
      // The outputs still go to the store and the subscribers; the journal is what must reach
      // the cluster.
      spdlog::warn("cluster: outputs do not go to the stream (stream_outputs): {}", e.what());
    }
  }
  if (m.opt.live && m.db) {
    if (m.cfg.cluster.enabled) m.progress.phase = "placing its nodes";
    m.place_nodes_on_members();
    if (m.stopped_in_start) return;  // not live, nothing spawned: stop() writes no checkpoint
  }
  m.progress.phase = "spawning its nodes";
  std::lock_guard graph_lock(m.graph_mu);  // journaled changes in catch_up re-plan
  m.spawn_nodes();
  m.make_ingest();
  if (m.opt.live) {
    if (m.db) m.gate->resume_from(*m.db);
    // The active process's sources run during the catch-up, journaling what a feed sends
    // meanwhile (a catch-up may read a whole journal: a rebuild, a long tail after a kill).
    const bool sources_first = !m.standby && m.db;
    if (sources_first) {
      if (m.lease) m.keep_lease();
      m.gate->journal_only();
      m.start_sources();
    }
    // Stopped in it: not live, no checkpoint (the nodes handed on are not in their state yet).
    if (!m.handed_after_sources.empty()) {
      spdlog::info(
          "cluster: its sources journal what a feed sends while the {} node(s) handed to this "
          "process start",
          m.handed_after_sources.size());
      if (!m.start_handed_nodes()) return;
    }
    m.quiet_through.clear();  // the nodes spawned from now on (restarts) publish all they make
    // Stopped in it: not live (the admin endpoints answer status and metrics until stop()).
    if (!m.catch_up(sources_first)) return;
    if (m.standby) {
      m.follow_journal();
    } else if (!sources_first) {
      m.start_sources();
      if (m.lease) m.keep_lease();
    }
  }
  // Only now may a stop() checkpoint: before the journal tail went through the nodes, their
  // state is behind the journal's end and a checkpoint would skip those records.
  m.caught_up = true;
  // Last: admin commands (which may re-plan) never race the start-up above.
  m.progress.phase = "live";
  m.progress.live = true;
  if (m.opt.live) m.start_backfill();

  spdlog::info(
      "engine {}: spawned {} node {} and {} stream {} ({} distinct of {} declared nodes, "
      "reuse {}/{}), {} source feeds{}{}",
      m.cfg.engine.name, m.counts.node_actors, m.inline_nodes ? "runners" : "actors",
      m.counts.stream_actors, m.inline_nodes ? "runners inline, in the replay thread" : "actors",
      m.graph->distinct, m.graph->declared, m.graph->reused(), m.graph->declared,
      m.counts.source_feeds, m.opt.publish ? "; publishing on " + m.pub->endpoint() : "",
      m.db ? "; data in " + m.opt.data_dir : "");
}

void engine::tick() {
  auto& m = *impl_;
  if (m.db && ++m.ticks % 250 == 0) m.db->release_mapped_pages();  // about every 5 s of running
  if (m.started && !m.stopped && m.opt.live) {
    m.keep_placement();
    if (m.ticks % 25 == 0) {
      m.report_journal();
      m.export_outputs();
    }
  }
  if (!m.started || m.stopped || !m.writer || !m.opt.live || m.opt.checkpoint_every <= 0) return;
  if (m.standby) return;  // the follower feeds the graph outside ingest: it checkpoints itself
  const std::int64_t ts = m.gate->max_ts();
  if (ts == INT64_MIN) return;
  if (m.last_checkpoint_ts == INT64_MIN) m.last_checkpoint_ts = ts;
  if (m.checkpoint_soon || ts - m.last_checkpoint_ts >= m.opt.checkpoint_every * m.min_interval) {
    checkpoint();
    m.last_checkpoint_ts = ts;
  }
}

void engine::checkpoint() { impl_->checkpoint(); }

void engine::impl::checkpoint() {
  auto& m = *this;
  std::lock_guard graph_lock(m.graph_mu);
  if (!m.writer || !m.sys || !m.caught_up) return;
  if (m.any_paused) {  // a paused node's held inputs are in no checkpoint: wait for resume
    spdlog::debug("checkpoint skipped: a node is paused");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t pos =
      m.quiesce_journaling([&](std::uint64_t at) { return write_checkpoint(at); });
  spdlog::debug(
      "checkpoint at journal position {} in {} ms", pos,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

std::uint64_t engine::impl::write_checkpoint(std::uint64_t at) {
  auto& m = *this;
  {
    // One transaction: every node's state, the journal position and the strategy changes they
    // belong to, and no state of a node that is gone.
    store_writer::group g;
    std::set<std::string> ids;
    caf::scoped_actor self{*m.sys};
    value_list computed, published;
    // Also into the cluster (an active engine computing every node): the same state and meta —
    // unless a node's state is missing (its checkpoint failed): restored elsewhere, that node
    // would start empty in the middle of the journal.
    // A placed process's share goes under its own name, once its member record says it
    // published what the checkpoint made (queue_placed_upload).
    bool upload = m.uploader && !m.fenced;
    std::map<std::string, std::string> uploaded;
    for (std::size_t i = 0; i < m.node_actors.size(); ++i) {
      if (!m.computes(i)) continue;  // fed nothing: its state is no state
      ids.insert(m.graph->nodes[i].id);
      computed.emplace_back(m.graph->nodes[i].id);
      if (m.placement && m.publishes(i) && !m.unpublished.count(m.graph->nodes[i].id))
        published.emplace_back(m.graph->nodes[i].id);
      self->request(m.node_actors[i], caf::infinite, checkpoint_atom::value)
          .receive(
              [&](std::string& bytes) {
                if (upload) uploaded.emplace(m.graph->nodes[i].id, bytes);
                g.put_state(m.graph->nodes[i].id, std::move(bytes));
              },
              [&](caf::error& e) {
                upload = false;
                spdlog::error("checkpoint of {} failed: {}", m.graph->nodes[i].name(),
                              m.sys->render(e));
              });
    }
    if (m.db)
      for (const auto& [id, _] : m.db->all_state())
        if (!ids.count(id)) g.erase_state(id);
    value_map meta{{"journal_pos", Value(at)}, {"strategies", m.rt.to_value()}};
    if (!m.computed.empty()) {
      meta["computed"] = Value(std::move(computed));
      meta["published"] = Value(std::move(published));
    }
    std::string meta_bytes = to_msgpack(Value(std::move(meta)));
    if (upload) {
      cluster_checkpoint cp{at, {}, m.base_graph_hash, meta_bytes, std::move(uploaded)};
      if (m.placement) {
        m.queue_placed_upload(std::move(cp));
      } else {
        m.uploader->offer(std::move(cp));
      }
    }
    g.put_meta("checkpoint", std::move(meta_bytes));
    m.checkpoint_soon = false;
    // Queued as one group, committed together within commit_ms: ingest need not wait for it.
    m.writer->put_group(std::move(g));
    return at;
  }
}

bool engine::sources_done() const {
  const auto& m = *impl_;
  std::lock_guard lock(m.sources_mu);
  if (m.threads.empty()) return false;
  for (const auto& t : m.threads)
    if (!t->done()) return false;
  return true;
}

void engine::stop() {
  auto& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  // First: whatever fails below, no thread outlives the engine.
  m.stop_taking();
  m.stop_backfill();
  if (m.sweeper) m.sweeper->stop();
  // start() may have thrown part-way (a busy port, a bad data dir): tear down what exists.
  // No command may reach actors that are going away; its sessions (a console page's live
  // stream among them) close now, not when the engine object goes.
  m.admin.reset();
  if (m.follower) m.follower->stop();  // before the sources: a takeover may be starting them
  if (m.sys) {
    m.stop_sources();
    if (m.any_paused) {  // held inputs are handled before the final checkpoint
      caf::scoped_actor self{*m.sys};
      for (auto& a : m.node_actors)
        self->request(a, caf::infinite, pause_atom::value, false)
            .receive([](bool) {}, [](caf::error&) {});
      m.any_paused = false;
    }
    m.flow->wait_idle();
    if (m.opt.live && m.writer && m.gate) checkpoint();
    for (auto& a : m.node_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    m.sys->await_all_actors_done();
    m.node_actors.clear();
    if (m.gate) m.final_unmatched = m.gate->unmatched_topics();
    m.gate.reset();
    m.inline_nodes.reset();
    m.sys.reset();
  }
  if (m.snapshots) m.snapshots->stop();
  if (m.writer) m.writer->stop();
  // What the last commits added goes to the cluster before the engine exits (a cluster that
  // does not answer gets it at the next start).
  const bool replicated = !m.replicator || m.replicator->stop(std::chrono::seconds(10));
  // The last outputs committed go to the stream too, unless the cluster does not answer (the
  // next process to publish the nodes sends them from its own dir).
  if (m.exporter && !m.exporter->stop(std::chrono::seconds(5)))
    spdlog::warn("cluster: the stream lacks some of the last outputs this process stored ({})",
                 m.exporter->stats().last_error);
  // The stop's checkpoint, once the journal through it is in the cluster: a host taking over
  // next starts from there. A placed process's waits for its last member record, below.
  const bool placed_upload = m.uploader && m.placement;
  if (m.uploader && !placed_upload) {
    if (replicated && !m.fenced) {
      if (!m.uploader->finish(std::chrono::seconds(5))) {
        const auto st = m.uploader->snapshot();
        spdlog::warn(
            "cluster: the stop's checkpoint did not go to the cluster within 5 s{}: a host taking "
            "over starts from an older one",
            st.last_error.empty() ? "" : " (" + st.last_error + ")");
      }
    } else {
      m.uploader->stop();
    }
  }
  if (m.pub) m.pub->stop();
  // Its last outputs sent, the process leaves the cluster's members (destroyed outside the lock:
  // it waits for a renewal in progress).
  std::unique_ptr<member_heartbeat> member;
  {
    std::lock_guard lock(m.member_mu);
    member = std::move(m.member);
  }
  // A placed process's key outlives a stop (a restart, this one or an operator's): a standby's
  // nodes stay placed on it unless it is gone for heartbeat_ttl. When its socket sent every
  // output it made, it says so, so whoever takes its nodes (a new active process's placement
  // after this one's stop) goes on from there, not from their start. Otherwise (records not in
  // the cluster, so outputs held for their acks were dropped; fenced; a full send queue) a
  // standby keeps its last report (half a second old), an active process's key goes (its nodes
  // are published from their start again: duplicates, never a gap).
  const publisher_stats sent = m.pub ? m.pub->stats() : publisher_stats{};
  const bool all_sent =
      replicated && !m.fenced && sent.queue_dropped == 0 && sent.uncommitted_dropped == 0;
  member_published said;  // what the last record says it published, when it says everything
  if (member && m.placement && all_sent) {
    said = m.own_last_seqs(m.board->snapshot());
    // Failpoint stop_unread: the record says what the one written two renewals before said, as
    // when the active process never read the stop's (its heir must not take the stop's
    // checkpoint). A SHOAL_FAILPOINTS that cannot be read fails the start, not a stop.
    bool unread = false;
    try {
      unread = failpoint_flag("stop_unread");
    } catch (const std::invalid_argument&) {
    }
    member->set_published(unread ? member->listed_published() : said);
    member->keep_on_exit();
  } else if (member && (m.restart || (m.placement && m.standby))) {
    member->keep_on_exit();
  }
  const bool said_all = member && m.placement && all_sent && member->leave();
  member.reset();
  // A clean stop hands the engine on: a standby takes over at once, not after heartbeat_ttl —
  // unless records are missing from the stream, which only this dir holds. Last: the standby
  // that takes it reads what this one said above.
  if (m.lease && !m.fenced && replicated) m.lease->release();
  // A placed process's stop checkpoint goes once its last member record says it published every
  // output the checkpoint made (the periodic ones wait for a record written two before the last:
  // offer_placed_uploads). Its heir takes it when the active process read that record, the one
  // before it otherwise (the head names both). After the lease: a standby taking over does not
  // wait for it. Not at a restart: the process goes on, its share about to change.
  if (placed_upload) {
    if (said_all && !m.fenced && !m.restart) m.offer_stop_checkpoint(said);
    // What was offered before goes too (covered, waiting out the second between two writes or
    // the replication), as at any clean stop.
    if (replicated && !m.fenced) {
      m.uploader->finish(std::chrono::seconds(5));
    } else {
      m.uploader->stop();
    }
    m.said_stop_checkpoint();
  }
}

bool engine::restart_wanted() const { return impl_->restart; }

std::shared_ptr<engine_lease> engine::lease_taken() const {
  std::lock_guard lock(impl_->member_mu);
  return impl_->handoff;
}

std::map<std::string, std::map<std::string, std::uint64_t>> engine::reports_taken() const {
  std::lock_guard lock(impl_->member_mu);
  return impl_->handoff_reports;
}

engine_counts engine::counts() const { return impl_->counts; }
std::vector<node_report> engine::nodes() const {
  std::lock_guard lock(impl_->graph_mu);
  return impl_->node_reports();
}
publisher_stats engine::publish_stats() const {
  return impl_->pub ? impl_->pub->stats() : publisher_stats{};
}

latency_histogram engine::latency(latency_stage s) const {
  return impl_->latency ? impl_->latency->snapshot(s) : latency_histogram{};
}

std::string engine::publish_endpoint() const {
  return impl_->pub ? impl_->pub->endpoint() : std::string();
}

std::vector<subscriber_stats> engine::subscribers() const {
  return impl_->pub ? impl_->pub->subscribers() : std::vector<subscriber_stats>{};
}
writer_stats engine::store_stats() const {
  return impl_->writer ? impl_->writer->stats() : writer_stats{};
}
const plan& engine::graph() const { return *impl_->graph; }
std::uint64_t engine::unmatched_topics() const {
  return impl_->gate ? impl_->gate->unmatched_topics() : impl_->final_unmatched;
}
digest_set engine::digests() const {
  return impl_->digests ? impl_->digests->result() : digest_set{};
}

}  // namespace shoal
