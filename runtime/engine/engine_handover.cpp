// A placed process's nodes handed to another when it dies (docs/cluster.md, "When a placed
// process dies"): each placed process puts its checkpoints in the cluster under its own name, and
// the heir starts the nodes handed to it from the last of them instead of rebuilding every node it
// computes from the journal's start.
//
// The two checkpoints are at different journal positions: the dead process's (P) and the heir's
// own (Q, later: it kept following after the death). Nodes handed from two processes at once (a
// host running two of them died) come each from its own process's checkpoint, brought forward in
// turn, the states of nodes both held checked against each other. The heir brings the dead one's
// share it now computes from P to Q alone, inline, over its local journal, storing the outputs
// again (the same bytes); checks that every node both checkpoints hold ends at Q in the state its
// own checkpoint has (the same journal gives the same state); only then goes through P..Q once more
// to publish what the handed nodes made after the seq handed with them, so a refusal never leaves
// subscribers with bytes a rebuild would contradict. It writes the union as its checkpoint at Q,
// and the start goes on from Q as after any restart.
//
// Its store then lacks the outputs the dead process made of a handed node before P (they were in
// the dead process's store). Once live, a thread of low priority computes them from the journal's
// start to P and stores them (never publishes them): the same bytes under the same seqs, so the
// dir ends up holding what a rebuild would have given, without the takeover waiting for it. What
// is left to do is in the dir's meta ("handed_backfill"): a process stopped meanwhile finishes it
// at its next start, from where it stopped (the states of the nodes it computes are in the meta,
// written at the stop and every half minute).

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "messages/msgpack_codec.hpp"
#include "runtime/engine/engine_impl.hpp"
#include "runtime/engine/failpoints.hpp"
#include "runtime/engine/inline_pass.hpp"
#include "runtime/engine/pending_backfill.hpp"

namespace shoal {

namespace {

// A placed process keeps this many checkpoints waiting for its member record to cover them.
constexpr std::size_t max_placed_uploads = 4;

// The dir's meta key holding a pending_backfill (empty: none).
constexpr const char* backfill_meta = "handed_backfill";

// A stopped backfill writes where it is; a killed one goes on from where it last wrote this often.
constexpr std::chrono::seconds backfill_save_every{30};

std::optional<pending_backfill> read_backfill(const store& db) {
  const auto bytes = db.get_meta(backfill_meta);
  if (!bytes) return std::nullopt;
  return decode_backfill(*bytes);
}

}  // namespace

std::string whose_checkpoints(const std::string& from) {
  if (from.empty()) return "their last process's checkpoint";
  return from.find(", ") != std::string::npos ? "the checkpoints of " + from
                                              : from + "'s checkpoint";
}

engine::impl::handed_start engine::impl::restore_handed_nodes(
    const std::set<std::string>& new_here) {
  // A standby restarting to take them, or an active process at its start once its sources run
  // (start(), handed_after_sources: a feed is journaled meanwhile, not held back).
  if (!placement || !cfg.cluster.checkpoints || new_here.empty() || !db)
    return handed_start::rebuild;
  const auto t0 = std::chrono::steady_clock::now();
  std::string from;
  auto refuse = [&](const std::string& why) {
    spdlog::warn(
        "cluster: the {} node(s) handed to this process do not start from {} in the "
        "cluster: {}",
        new_here.size(), whose_checkpoints(from), why);
    std::lock_guard graph_lock(graph_mu);  // admin `cluster` reads it
    handed_restore = {{"from", from}, {"why_not", why}};
    return false;
  };
  try {
    if (bring_handed_forward(new_here, from, t0, refuse)) return handed_start::restored;
  } catch (const std::exception& e) {  // it only shortens the start: the rebuild is there
    refuse(e.what());
  }
  // A stop meanwhile: neither, the next start does it again (nothing here was written but
  // outputs with the bytes they have anyway).
  return opt.stop && opt.stop->load() ? handed_start::stopped : handed_start::rebuild;
}

bool engine::impl::bring_handed_forward(const std::set<std::string>& new_here, std::string& from,
                                        std::chrono::steady_clock::time_point t0,
                                        const std::function<bool(const std::string&)>& refuse) {
  auto name_of = [&](const std::string& id) {
    for (const auto& n : graph->nodes)
      if (n.id == id) return n.name();
    return id;
  };
  // The handed nodes by the process each came from: two when a host running two processes died
  // (the active one and a standby), each brought forward from its own checkpoint.
  std::map<std::string, std::set<std::string>> by_process;
  for (const auto& id : new_here) {
    const auto f = placement->handed_from.find(id);
    if (f == placement->handed_from.end())
      return refuse("the placement does not say which process " + name_of(id) + " came from");
    if (by_process[f->second].empty()) from += (from.empty() ? "" : ", ") + f->second;
    by_process[f->second].insert(id);
  }
  auto refuse_for = [&](const std::string& process, const std::string& why) {
    return refuse(by_process.size() > 1 ? process + "'s: " + why : why);
  };
  const Value own = checkpoint_meta();
  const std::uint64_t to = checkpoint_position();
  const std::set<std::string> mine =
      listed_nodes(own, "computed").value_or(std::set<std::string>{});
  struct source {
    std::string process;
    std::set<std::string> handed;
    cluster_checkpoint cp;
    std::vector<bool> lagging;  // what it brings forward: what this one computes of its share
    std::size_t nodes = 0;      // of those, not streams
  };
  std::vector<source> sources;
  for (const auto& share : by_process) {
    // Named, not structured bindings: the lambda below captures them (clang 14 takes none).
    const auto& process = share.first;
    const auto& ids = share.second;
    // Why this process's checkpoint cp cannot be where its share starts ("" when it can).
    auto unfit = [&](const cluster_checkpoint& cp) -> std::string {
      const std::string at = "journal record " + std::to_string(cp.journal_pos);
      if (cp.journal_pos > to)
        return "its checkpoint, at " + at + ", is later than this dir's, at journal record " +
               std::to_string(to);
      const checkpoint_fit fit = fit_checkpoint(
          cp, base_graph_hash, [this](std::uint64_t seq) { return db->journal_bytes(seq); },
          db->journal_last());
      if (!fit.why_not.empty()) return "its checkpoint " + fit.why_not;
      // Both sets hold every node upstream of their nodes, so this one does too.
      const std::set<std::string> theirs =
          listed_nodes(fit.meta, "computed").value_or(std::set<std::string>{});
      for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
        const std::string& id = graph->nodes[i].id;
        if (computes(i) && theirs.count(id) && !cp.state.count(id))
          return "its checkpoint holds no state of " + name_of(id);
      }
      // A handed node's subscribers had its outputs through the seq handed with it, no more: the
      // checkpoint must not be past it, or the outputs between would never be published.
      for (const auto& id : ids) {
        if (!theirs.count(id)) return "its checkpoint did not compute " + name_of(id);
        const auto h = placement->handed.find(id);
        const std::uint64_t handed = h != placement->handed.end() ? h->second : 0;
        const std::uint64_t seq = node_runner::checkpoint_seq(cp.state.at(id));
        if (seq > handed)
          return "its checkpoint of " + name_of(id) + " is at seq " + std::to_string(seq) +
                 ", past seq " + std::to_string(handed) + " it was known to have published";
      }
      return "";
    };
    chosen_checkpoint chosen =
        choose_checkpoint(read_process_checkpoints(cfg.cluster, process), unfit);
    if (!chosen.checkpoint) return refuse_for(process, chosen.why_not);
    // The one before it, when the latest is a stop's this process cannot take (past what the
    // active process read of the dead one's seqs, or past this dir's checkpoint), or damaged.
    if (chosen.previous)
      spdlog::info(
          "cluster: {}'s last checkpoint in the cluster does not do ({}): its handed node(s) "
          "start from the one before it, at journal record {}",
          process, chosen.latest_why_not, chosen.checkpoint->journal_pos);
    source src{process, ids, std::move(*chosen.checkpoint), std::vector<bool>(graph->nodes.size()),
               0};
    const std::set<std::string> theirs =
        listed_nodes(from_msgpack(src.cp.meta, stored_data_limits()), "computed")
            .value_or(std::set<std::string>{});
    for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
      src.lagging[i] = computes(i) && theirs.count(graph->nodes[i].id) != 0;
      src.nodes += src.lagging[i] && !graph->nodes[i].is_stream() ? 1 : 0;
    }
    sources.push_back(std::move(src));
  }
  // What some source brings forward: with this dir's own checkpoint, every node it computes.
  std::vector<bool> lagging(graph->nodes.size());
  std::size_t brought_nodes = 0;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    for (const auto& src : sources) lagging[i] = lagging[i] || src.lagging[i];
    if (computes(i) && !lagging[i] && !mine.count(graph->nodes[i].id))
      return refuse(name_of(graph->nodes[i].id) + " is in no checkpoint");
    brought_nodes += lagging[i] && !graph->nodes[i].is_stream() ? 1 : 0;
  }

  progress.phase = "bringing handed nodes forward";
  progress.last = to;
  auto not_stopped = [this] { return !(opt.stop && opt.stop->load(std::memory_order_relaxed)); };
  // First with nothing published, the states at Q checked. It stores the outputs of the nodes
  // it does not publish now (a rebuild would store the same); a handed node's are stored as they
  // are published, below: a start that finds them stored takes them for sent.
  const bool publishing = pub && opt.publish;
  const std::map<std::string, std::string> states = db->all_state();
  std::map<std::string, std::string> brought;  // node → its state at `to`, brought forward
  std::set<std::string> counted;               // in `bytes`
  store_writer::group g;
  std::size_t bytes = 0;
  for (const auto& src : sources) {
    progress.through = src.cp.journal_pos;
    inline_pass check(graph, src.lagging, [&](std::size_t i, node_runner_args& a) {
      a.checkpoint = src.cp.state.at(graph->nodes[i].id);
      if (!publishing || !new_here.count(graph->nodes[i].id)) a.writer = writer;
    });
    for (std::size_t i = 0; i < graph->nodes.size(); ++i)
      if (src.lagging[i] && check.graph().runner(i).reason().rfind("checkpoint cannot", 0) == 0)
        return refuse_for(src.process,
                          "its checkpoint of " + name_of(graph->nodes[i].id) +
                              " cannot be restored: " + check.graph().runner(i).reason());
    if (auto why = check.run(*db, src.cp.journal_pos, to, not_stopped); !why.empty())
      return refuse_for(src.process, why);
    for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
      if (!src.lagging[i]) continue;
      const std::string& id = graph->nodes[i].id;
      std::string state = check.graph().runner(i).checkpoint();
      if (counted.insert(id).second) bytes += state.size();
      // A node this dir's checkpoint or another process's brought it to already: the same
      // journal must have brought it to the same state.
      const std::string* known = nullptr;
      if (mine.count(id)) {
        const auto it = states.find(id);
        if (it == states.end())
          return refuse(name_of(id) + " is not in this dir's checkpoint at journal record " +
                        std::to_string(to));
        known = &it->second;
      } else if (const auto it = brought.find(id); it != brought.end()) {
        known = &it->second;
      }
      if (known) {
        if (*known != state)
          return refuse_for(src.process,
                            name_of(id) + ", brought forward to journal record " +
                                std::to_string(to) + ", differs from " +
                                (mine.count(id) ? "this dir's checkpoint of it there"
                                                : "the state another checkpoint brought it to"));
        continue;
      }
      // Kept for the comparison only when another source may bring it too.
      brought.emplace(id, sources.size() > 1 ? state : std::string());
      g.put_state(id, std::move(state));
    }
  }
  // Then again from each P, publishing what its handed nodes made after their handed seqs (and
  // nothing of the others: quiet_through is their last stored seq, and a node handed from
  // another process goes in that one's pass). Its subscribers are back on the socket bound again
  // by now.
  if (publishing) {
    std::this_thread::sleep_for(resubscribe_grace);
    for (const auto& src : sources) {
      inline_pass publish(graph, src.lagging, [&](std::size_t i, node_runner_args& a) {
        const std::string& id = graph->nodes[i].id;
        a.checkpoint = src.cp.state.at(id);
        const bool other_heir = new_here.count(id) && !src.handed.count(id);
        a.pub = publishes(i) && !other_heir ? pub : nullptr;
        if (src.handed.count(id)) a.writer = writer;
        if (auto q = quiet_through.find(id); q != quiet_through.end()) a.quiet_through = q->second;
      });
      if (auto why = publish.run(*db, src.cp.journal_pos, to, not_stopped); !why.empty())
        return refuse_for(src.process, why);
    }
  }
  // The dir's checkpoint at `to` now holds every node this process computes, and says it
  // published the handed nodes (through here): the start goes on from it as after a restart.
  value_list computed, published;
  for (const auto& id : mine) computed.emplace_back(id);
  for (const auto& [id, state] : brought) computed.emplace_back(id);
  for (std::size_t i = 0; i < graph->nodes.size(); ++i)
    if (computes(i) && publishes(i)) published.emplace_back(graph->nodes[i].id);
  value_map meta = own.as_map();
  meta["computed"] = Value(std::move(computed));
  meta["published"] = Value(std::move(published));
  g.put_meta("checkpoint", to_msgpack(Value(std::move(meta))));
  // The nodes this dir never computed lack their outputs before the dead one's checkpoint: they
  // are made once live (with what an earlier hand-over left to make).
  pending_backfill backfill = read_backfill(*db).value_or(pending_backfill{});
  std::set<std::string> lacking;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i)
    if (brought.count(graph->nodes[i].id) && !graph->nodes[i].is_stream())
      lacking.insert(graph->nodes[i].id);
  std::uint64_t through = 0;
  for (const auto& src : sources) through = std::max(through, src.cp.journal_pos);
  backfill.add(lacking, through);
  if (!backfill.nodes.empty()) g.put_meta(backfill_meta, encode_backfill(backfill));
  writer->put_group(std::move(g));
  writer->flush();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  nlohmann::json checkpoints = nlohmann::json::array();
  std::uint64_t earliest = to;
  for (const auto& src : sources) {
    spdlog::info(
        "cluster: the {} node(s) handed to this process start from {}'s checkpoint in the "
        "cluster at journal record {}, brought forward with {} more it computes to this dir's "
        "checkpoint at journal record {} ({} records, {} ms): no rebuild from the journal's start",
        src.handed.size(), src.process, src.cp.journal_pos, src.nodes - src.handed.size(), to,
        to - src.cp.journal_pos, ms);
    checkpoints.push_back(
        {{"from", src.process}, {"journal_pos", src.cp.journal_pos}, {"nodes", src.nodes}});
    earliest = std::min(earliest, src.cp.journal_pos);
  }
  std::lock_guard graph_lock(graph_mu);
  handed_restore = {{"from", from},
                    {"journal_pos", earliest},
                    {"to", to},
                    {"nodes", brought_nodes},
                    {"bytes", bytes},
                    {"ms", ms},
                    {"checkpoints", checkpoints}};
  return true;
}

bool engine::impl::start_handed_nodes() {
  const std::set<std::string> new_here = std::move(handed_after_sources);
  handed_after_sources.clear();
  const handed_start how = restore_handed_nodes(new_here);
  if (how == handed_start::stopped) return false;
  // No input has reached a node yet: the sources only journal until the catch-up.
  caf::scoped_actor self{*sys};
  auto renew = [&](std::size_t i, const std::string* state) {
    self->request(node_actors[i], caf::infinite, renew_atom::value, state != nullptr,
                  state ? *state : std::string())
        .receive([](bool) {},
                 [&](caf::error& e) {
                   throw std::runtime_error("renewing node " + graph->nodes[i].name() + ": " +
                                            sys->render(e));
                 });
  };
  if (how == handed_start::restored) {
    const auto states = db->all_state();  // the one brought forward, written by now
    for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
      const std::string& id = graph->nodes[i].id;
      if (!computes(i) || restored_ids.count(id)) continue;
      if (auto it = states.find(id); it != states.end()) renew(i, &it->second);
    }
    return true;
  }
  rebuild_from_journal(missing_after_sources, new_here);
  for (std::size_t i = 0; i < graph->nodes.size(); ++i)
    if (computes(i)) renew(i, nullptr);
  return true;
}

std::set<std::string> engine::impl::backfilling() const {
  std::lock_guard lock(backfill_mu);
  return backfill_nodes;
}

void engine::impl::forget_backfill() {
  if (db && db->get_meta(backfill_meta)) writer->put_meta(backfill_meta, "");
}

void engine::impl::start_backfill() {
  if (!db || !writer) return;
  std::optional<pending_backfill> b;
  try {
    b = read_backfill(*db);
  } catch (const decode_error& e) {
    spdlog::warn("data dir {}: its meta {} cannot be read ({}): left as it is", opt.data_dir,
                 backfill_meta, e.what());
  }
  if (!b) return;
  // Every node upstream of them is computed again from the journal's start, but only theirs are
  // stored: the others' outputs are in the store already.
  std::vector<bool> need(graph->nodes.size());
  std::size_t stored = 0;
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    need[i] = b->nodes.count(graph->nodes[i].id) != 0;
    stored += need[i] ? 1 : 0;
  }
  need = with_upstreams(*graph, std::move(need));
  if (stored == 0) {  // the graph no longer has them
    forget_backfill();
    return;
  }
  if (b->from >= b->through) {  // a stop after its last batch: every output is stored
    forget_backfill();
    return;
  }
  // Where a stop left it, when it left the state of every node it computes.
  bool resume = b->from > 0;
  for (std::size_t i = 0; i < graph->nodes.size() && resume; ++i)
    resume = !need[i] || b->states.count(graph->nodes[i].id) != 0;
  if (!resume) b->from = 0;
  backfill_state = {{"nodes", stored}, {"through", b->through}, {"from", b->from}, {"done", false}};
  {
    std::lock_guard lock(backfill_mu);
    backfill_nodes = b->nodes;
  }
  if (b->from > 0) {
    spdlog::info(
        "cluster: data dir {} lacks the outputs of {} node(s) handed to it before journal record "
        "{}: a thread of low priority makes them from journal record {}, where it was left (a "
        "stop, or its last save before the process ended)",
        opt.data_dir, stored, b->through, b->from + 1);
  } else {
    spdlog::info(
        "cluster: data dir {} lacks the outputs of {} node(s) handed to it before journal record "
        "{}: a thread of low priority makes them from the journal's start",
        opt.data_dir, stored, b->through);
  }
  // Its own plan: an admin change may replace the engine's meanwhile.
  backfill_thread = std::thread([this, planned = graph, need = std::move(need), b = *b, stored] {
    // Below the live nodes for the cores; for the writer, it waits for its own outputs to be
    // committed after each batch.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
    const auto t0 = std::chrono::steady_clock::now();
    std::string why_not;
    std::uint64_t from = b.from;
    try {
      auto make_pass = [&](bool restore) {
        return std::make_unique<inline_pass>(planned, need,
                                             [&](std::size_t i, node_runner_args& a) {
                                               const std::string& id = planned->nodes[i].id;
                                               if (b.nodes.count(id)) a.writer = writer;
                                               if (restore) a.checkpoint = b.states.at(id);
                                             });
      };
      auto pass = make_pass(from > 0);
      for (std::size_t i = 0; i < planned->nodes.size() && from > 0; ++i) {
        const std::string& why = pass->graph().runner(i).reason();
        if (need[i] && why.rfind("checkpoint cannot", 0) == 0) {
          spdlog::warn(
              "cluster: the state the backfill saved of {} cannot be restored ({}): the backfill "
              "starts from the journal's start",
              planned->nodes[i].name(), why);
          from = 0;
          pass = make_pass(false);
          std::lock_guard graph_lock(graph_mu);
          backfill_state["from"] = 0;
        }
      }
      const bool slow = failpoint_flag("backfill_slow");
      auto saved_at = std::chrono::steady_clock::now();
      // Where it is, with every node's state there (its outputs there are committed).
      auto save = [&] {
        pending_backfill left;
        left.through = b.through;
        left.nodes = b.nodes;
        left.from = pass->fed_through();
        for (std::size_t i = 0; i < planned->nodes.size(); ++i)
          if (need[i])
            left.states.emplace(planned->nodes[i].id, pass->graph().runner(i).checkpoint());
        writer->put_meta(backfill_meta, encode_backfill(left));
        writer->flush();
        saved_at = std::chrono::steady_clock::now();
      };
      why_not = pass->run(*db, from, b.through, [&] {
        writer->flush();
        if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(250));
        const bool go = !backfill_stop.load(std::memory_order_relaxed);
        // (The failpoint saves after every batch: a test's kill -9 then finds a position.)
        const auto every = slow ? std::chrono::seconds(0) : backfill_save_every;
        if (!go || std::chrono::steady_clock::now() - saved_at >= every) save();
        return go;
      });
      if (why_not == "stopped") {  // the next start goes on from here
        spdlog::info(
            "cluster: the backfill stopped after journal record {} of {}: the next start goes on "
            "from there",
            pass->fed_through(), b.through);
        return;
      }
      if (why_not.empty()) {
        writer->put_meta(backfill_meta, "");
        writer->flush();
      }
    } catch (const std::exception& e) {  // a store that failed, a damaged record
      why_not = e.what();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      // Done, or failed until the next start: the outputs it did not make are as missing as a
      // dead process's.
      std::lock_guard lock(backfill_mu);
      backfill_nodes.clear();
    }
    std::lock_guard graph_lock(graph_mu);
    backfill_state["done"] = why_not.empty();
    if (!why_not.empty()) {
      backfill_state["why_not"] = why_not;
      spdlog::warn(
          "cluster: data dir {} does not hold the outputs of the handed node(s) before journal "
          "record {} yet ({}): its next start tries again; `shoal replay` of it makes them",
          opt.data_dir, b.through, why_not);
      return;
    }
    backfill_state["seconds"] = s;
    spdlog::info(
        "cluster: data dir {} holds the outputs of the {} handed node(s) from their start again "
        "(through journal record {}, from journal record {}, in {:.2f} s)",
        opt.data_dir, stored, b.through, from + 1, s);
  });
}

void engine::impl::stop_backfill() {
  backfill_stop = true;
  if (backfill_thread.joinable()) backfill_thread.join();
}

void engine::impl::add_backfill(const std::set<std::string>& nodes, std::uint64_t through) {
  stop_backfill();  // what it left to do stays in the meta
  pending_backfill b;
  try {
    b = read_backfill(*db).value_or(pending_backfill{});
  } catch (const decode_error&) {  // start_backfill said so: it is replaced
  }
  b.add(nodes, through);
  writer->put_meta(backfill_meta, encode_backfill(b));
  writer->flush();
  backfill_stop = false;
  std::lock_guard graph_lock(graph_mu);
  start_backfill();
}

void engine::impl::placed_checkpoint_uploads() {
  if (!cfg.cluster.checkpoints || uploader || !db) return;
  // A checkpoint there only shortens a heir's start.
  auto u = checkpoint_uploads(replicator.get(), instance,
                              process_checkpoint_name(cfg.cluster, instance));
  std::lock_guard graph_lock(graph_mu);  // admin `cluster` reads it
  uploader = std::move(u);
}

void engine::impl::sweep_gone_checkpoints() {
  if (!cfg.cluster.checkpoints || sweeper) return;
  const auto retention = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(cfg.cluster.checkpoint_retention_ns));
  // Often enough that a checkpoint goes within a quarter of its retention after it may.
  const auto period =
      std::clamp(retention / 4, std::chrono::milliseconds(3000), std::chrono::milliseconds(60'000));
  try {
    auto s = std::make_unique<checkpoint_sweeper>(cfg.cluster, retention, period);
    std::lock_guard graph_lock(graph_mu);  // admin `cluster` reads it
    sweeper = std::move(s);
  } catch (const std::exception& e) {  // it only saves space in the cluster
    spdlog::warn("cluster: checkpoints of processes gone for good stay in the cluster: {}",
                 e.what());
  }
}

void engine::impl::queue_placed_upload(cluster_checkpoint cp) {
  placed_upload up;
  try {
    for (const auto& id : own_ids())
      if (auto s = cp.state.find(id); s != cp.state.end())
        up.seqs[id] = node_runner::checkpoint_seq(s->second);
  } catch (const decode_error& e) {
    spdlog::warn("cluster: a checkpoint not put in the cluster: {}", e.what());
    return;
  }
  up.cp = std::move(cp);
  std::lock_guard lock(placed_uploads_mu);
  // Full: the newest waiting one gives way. The oldest is the next one covered; dropping it
  // instead could, at a fast cadence, drop every checkpoint before it is covered.
  if (placed_uploads.size() >= max_placed_uploads) placed_uploads.pop_back();
  placed_uploads.push_back(std::move(up));
}

void engine::impl::offer_placed_uploads() {
  if (!uploader || fenced) return;
  {
    // While it gives nodes, its checkpoints stay out of the cluster (for at most give_limit): one
    // made since lists a node it gives past the seq handed with it, and a process the node moved
    // to reads the last two (a move's receiver starts it from one of them).
    std::lock_guard graph_lock(graph_mu);
    if (!giving.empty() && std::chrono::steady_clock::now() - gave_at < give_limit) return;
  }
  member_published listed;
  {
    std::lock_guard lock(member_mu);
    if (!member) return;
    listed = member->listed_published();
  }
  // Nodes it gave a standby since (its member record lists them no more) are that one's now:
  // its own heir does not publish them, so they are not waited for.
  const auto own = own_ids();
  auto covered = [&](const placed_upload& up) {
    for (const auto& [id, seq] : up.seqs) {
      if (!own.count(id)) continue;
      const auto w = listed.find(id);
      if (seq > 0 && (w == listed.end() || w->second < seq)) return false;
    }
    return true;
  };
  std::optional<cluster_checkpoint> latest;
  {
    std::lock_guard lock(placed_uploads_mu);
    while (!placed_uploads.empty() && covered(placed_uploads.front())) {
      latest = std::move(placed_uploads.front().cp);
      placed_uploads.pop_front();
    }
  }
  if (latest) uploader->offer(std::move(*latest));
}

void engine::impl::offer_stop_checkpoint(const member_published& said) {
  std::optional<placed_upload> last;
  {
    std::lock_guard lock(placed_uploads_mu);
    if (placed_uploads.empty()) return;
    last = std::move(placed_uploads.back());
    placed_uploads.clear();
  }
  // The record says what the checkpoint made, unless a node made more after it (it cannot: the
  // graph was idle for both); a checkpoint past it would be refused by every heir anyway.
  for (const auto& [id, seq] : last->seqs) {
    const auto s = said.find(id);
    if (seq > 0 && (s == said.end() || s->second < seq)) {
      spdlog::warn(
          "cluster: the stop's checkpoint at journal record {} stays out of the cluster: it holds "
          "a seq of a node past what the last member record says was published",
          last->cp.journal_pos);
      return;
    }
  }
  stop_checkpoint = last->cp.journal_pos;
  uploader->offer(std::move(last->cp));
}

void engine::impl::said_stop_checkpoint() {
  if (stop_checkpoint == 0) return;
  const auto st = uploader->snapshot();
  if (st.journal_pos == stop_checkpoint) {
    spdlog::info(
        "cluster: this process's checkpoint at journal record {} went to the cluster at its stop: "
        "its last member record says it published every output the checkpoint made",
        stop_checkpoint);
  } else {
    spdlog::warn(
        "cluster: this process's checkpoint at journal record {} did not go to the cluster at its "
        "stop{}: its heir starts from the one before it",
        stop_checkpoint, st.last_error.empty() ? "" : " (" + st.last_error + ")");
  }
}

}  // namespace shoal
