// The active process of a placed engine takes the nodes of a dead process no standby can take
// ([cluster] active_takes; docs/cluster.md, "The active process takes them") while it runs. A
// restart would stop its sources, and the frames a ZeroMQ feed sent meanwhile would be lost.
//
// It has an actor of every node already (a placed process spawns them all and feeds only those it
// computes). A thread beside the live graph:
//  1. checkpoints this dir (Q) and brings the dead process's checkpoint in the cluster (P) forward
//     to Q, inline over the local journal, publishing nothing: every node this dir's checkpoint
//     holds too must end at Q in the state it has there, as a heir's start checks
//     (engine_handover.cpp). Nodes from two processes dead at once: each share from its own
//     process's checkpoint, a node both need brought to the same state by both. Any refusal:
//     every node taken starts from the journal's start instead.
//  2. goes through the journal from each P again (or from its start), publishing what the
//     handed nodes made after the seq handed with them and storing what the nodes new here make,
//     on to the journal's end, while live input goes on.
//  3. with the graph quiet (ingest journals what arrives and holds it): the last records, then
//     each new node's actor is replaced by one starting from the state the pass reached,
//     subscribed to its upstreams and publishing. Ingest then forwards what it held, to them too.
// Their outputs before P come from the backfill, once live (engine_handover.cpp).

#include <chrono>
#include <thread>

#include "runtime/engine/engine_impl.hpp"
#include "runtime/engine/failpoints.hpp"
#include "runtime/engine/inline_pass.hpp"

namespace shoal {

namespace {

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void engine::impl::take_nodes(std::set<std::string> taken) {
  stop_taking();  // one that ended: joined
  take_stop = false;
  taking = true;
  take_thread = std::thread([this, taken = std::move(taken)] {
    try {
      take_running(taken);
    } catch (const std::exception& e) {
      // Its start takes them (a heir's start, engine_handover.cpp); until then they stay listed.
      spdlog::error(
          "cluster: this process could not take the {} node(s) placed on it while it runs: {}; "
          "they are not published until it is restarted",
          taken.size(), e.what());
      std::lock_guard graph_lock(graph_mu);
      untaken.insert(taken.begin(), taken.end());
      unpublished.insert(taken.begin(), taken.end());
    }
    taking = false;
  });
}

void engine::impl::stop_taking() {
  take_stop = true;
  if (take_thread.joinable()) take_thread.join();
}

void engine::impl::renew_taken(const plan& g, const std::vector<const inline_graph*>& brought) {
  auto renewed = [&](std::size_t i) { return brought[i] != nullptr; };
  // Every step is tried, whatever failed before it: a node left unwired is named, never silently
  // cut off from its upstreams or its running subscribers.
  std::string failed;
  caf::scoped_actor self{*sys};
  auto ask = [&](const caf::actor& to, const caf::message& m, std::size_t i) {
    self->request(to, std::chrono::seconds(10), m)
        .receive([](bool) {},
                 [&](caf::error& e) {
                   if (failed.empty()) failed = g.nodes[i].name() + ": " + sys->render(e);
                 });
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {  // upstream first
    if (!renewed(i)) continue;
    const plan_node& n = g.nodes[i];
    // An upstream copy fed until now: its upstreams that stay must stop sending to it (a message
    // to an actor gone would never be counted handled).
    if (computes(i))
      for (const auto& in : n.inputs)
        if (!renewed(in.upstream))
          ask(node_actors[in.upstream], caf::make_message(unsubscribe_atom::value, node_actors[i]),
              i);
    caf::anon_send_exit(node_actors[i], caf::exit_reason::user_shutdown);
    computed[i] = true;
    // node_args: the placement says it is published here now.
    node_actors[i] = spawn_node_host(
        *sys, node_args(graph, i, reports[i], brought[i]->runner(i).checkpoint(), false));
    board->update(reports[i], [](node_report& r) { r.reason.clear(); });
    for (std::size_t p = 0; p < n.inputs.size(); ++p)
      ask(node_actors[n.inputs[p].upstream],
          caf::make_message(subscribe_atom::value, node_actors[i], static_cast<std::uint32_t>(p)),
          i);
    // The running nodes it fed as an upstream copy.
    for (std::size_t j = i + 1; j < g.nodes.size(); ++j) {
      if (renewed(j) || !computes(j)) continue;
      for (std::size_t p = 0; p < g.nodes[j].inputs.size(); ++p)
        if (g.nodes[j].inputs[p].upstream == i)
          ask(node_actors[i],
              caf::make_message(subscribe_atom::value, node_actors[j],
                                static_cast<std::uint32_t>(p)),
              i);
    }
  }
  if (!failed.empty()) throw std::runtime_error("renewing " + failed);
}

bool engine::impl::take_running(const std::set<std::string>& taken) {
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const plan> g;
  std::vector<bool> fresh;                      // computed from now on, not before
  std::vector<bool> renewed;                    // their actors replaced: those and the taken
  std::map<std::string, std::uint64_t> handed;  // of the taken nodes: published through
  std::map<std::string, std::set<std::string>> by_process;  // the taken nodes by where from
  {
    std::lock_guard graph_lock(graph_mu);
    g = graph;
    const std::vector<bool> now = computed_by(placement_nodes(*g), placement->nodes, instance);
    fresh.resize(g->nodes.size());
    renewed.resize(g->nodes.size());
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      fresh[i] = now[i] && !computes(i);
      // A taken node this process computed already (upstream of its own) starts publishing.
      renewed[i] = fresh[i] || taken.count(g->nodes[i].id) != 0;
    }
    for (const auto& id : taken) {
      const auto h = placement->handed.find(id);
      handed[id] = h != placement->handed.end() ? h->second : 0;
      if (const auto f = placement->handed_from.find(id); f != placement->handed_from.end())
        by_process[f->second].insert(id);
    }
  }
  std::set<std::string> sources;  // the processes they came from
  for (const auto& [process, ids] : by_process) sources.insert(process);
  const std::string from = joined(sources);
  auto name_of = [&](std::size_t i) { return g->nodes[i].name(); };
  auto not_stopped = [this] { return !take_stop.load() && !fenced.load(); };

  // One pass per process they came from, each from that process's checkpoint, or a single one
  // from the journal's start. A share gives the nodes it `owns` their state when they go live,
  // and stores (and, taken, publishes) their outputs; it is `fed` those and their upstreams.
  struct share {
    std::string process;
    std::vector<bool> owns, fed;
    std::uint64_t start = 0;  // its checkpoint's journal position (P), or 0
    std::map<std::string, std::string> states;
    std::unique_ptr<inline_pass> pass;
  };
  std::vector<share> shares;
  // A taken node is its own process's (checked against the seq handed from there, published
  // from that checkpoint), though another share feeds it too (upstream of its nodes); a new
  // upstream copy goes to the first share that feeds it.
  std::vector<bool> owned(g->nodes.size());
  for (const auto& [process, ids] : by_process) {
    std::vector<bool> roots(g->nodes.size());
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      roots[i] = ids.count(g->nodes[i].id) != 0;
      owned[i] = owned[i] || roots[i];
    }
    shares.push_back(share{process, roots, with_upstreams(*g, roots), 0, {}, nullptr});
  }
  for (auto& sh : shares) {
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      sh.owns[i] = sh.owns[i] || (renewed[i] && sh.fed[i] && !owned[i]);
      owned[i] = owned[i] || sh.owns[i];
    }
  }

  // 1. Each dead process's checkpoint brought forward to this dir's, checked.
  std::uint64_t checked_at = 0;  // Q
  auto from_checkpoints = [&]() -> std::string {
    if (!cfg.cluster.checkpoints) return "[cluster] checkpoints is off";
    if (shares.empty()) return "the placement does not say which process they came from";
    for (std::size_t i = 0; i < g->nodes.size(); ++i)
      if (renewed[i] && !owned[i]) return "no process's share holds " + name_of(i);
    // Q: this dir's checkpoint, now, read whole before a periodic one replaces it.
    std::unique_lock graph_lock(graph_mu);
    checkpoint();
    writer->flush();
    const std::uint64_t to = checkpoint_position();
    const std::set<std::string> mine =
        listed_nodes(checkpoint_meta(), "computed").value_or(std::set<std::string>{});
    const std::map<std::string, std::string> own = db->all_state();
    graph_lock.unlock();
    std::map<std::string, std::string> brought;  // node → its state at Q from an earlier share
    for (auto& sh : shares) {
      const std::string whose = shares.size() > 1 ? sh.process + "'s: " : "";
      // Why checkpoint cp cannot be where this share starts ("" when it can).
      auto unfit = [&](const cluster_checkpoint& cp) -> std::string {
        if (cp.journal_pos > to)
          return "its checkpoint, at journal record " + std::to_string(cp.journal_pos) +
                 ", is later than this dir's, at journal record " + std::to_string(to);
        const checkpoint_fit fit = fit_checkpoint(
            cp, base_graph_hash, [this](std::uint64_t seq) { return db->journal_bytes(seq); },
            db->journal_last());
        if (!fit.why_not.empty()) return "its checkpoint " + fit.why_not;
        for (std::size_t i = 0; i < g->nodes.size(); ++i)
          if (sh.fed[i] && !cp.state.count(g->nodes[i].id))
            return "its checkpoint holds no state of " + name_of(i);
        // A taken node's subscribers had its outputs through the seq handed with it, no more.
        for (std::size_t i = 0; i < g->nodes.size(); ++i) {
          const auto h = handed.find(g->nodes[i].id);
          if (!sh.owns[i] || h == handed.end()) continue;
          const std::uint64_t seq = node_runner::checkpoint_seq(cp.state.at(h->first));
          if (seq > h->second)
            return "its checkpoint of " + name_of(i) + " is at seq " + std::to_string(seq) +
                   ", past seq " + std::to_string(h->second) + " it was known to have published";
        }
        return "";
      };
      chosen_checkpoint chosen =
          choose_checkpoint(read_process_checkpoints(cfg.cluster, sh.process), unfit);
      if (!chosen.checkpoint) return whose + chosen.why_not;
      // The one before it, when the latest is a stop's this process cannot take, or damaged.
      std::optional<cluster_checkpoint>& cp = chosen.checkpoint;
      if (chosen.previous)
        spdlog::info(
            "cluster: {}'s last checkpoint in the cluster does not do ({}): its node(s) start "
            "from the one before it, at journal record {}",
            sh.process, chosen.latest_why_not, cp->journal_pos);
      inline_pass check(g, sh.fed, [&](std::size_t i, node_runner_args& a) {
        a.checkpoint = cp->state.at(g->nodes[i].id);
      });
      for (std::size_t i = 0; i < g->nodes.size(); ++i)
        if (sh.fed[i] && check.graph().runner(i).reason().rfind("checkpoint cannot", 0) == 0)
          return whose + "its checkpoint of " + name_of(i) +
                 " cannot be restored: " + check.graph().runner(i).reason();
      if (auto why = check.run(*db, cp->journal_pos, to, not_stopped); !why.empty())
        return whose + why;
      // The same journal brings a node to the same state, whichever checkpoint it came from.
      for (std::size_t i = 0; i < g->nodes.size(); ++i) {
        if (!sh.fed[i]) continue;
        const std::string& id = g->nodes[i].id;
        std::string state = check.graph().runner(i).checkpoint();
        const std::string* known = nullptr;
        if (mine.count(id)) {
          const auto it = own.find(id);
          if (it == own.end()) return name_of(i) + " is not in this dir's checkpoint";
          known = &it->second;
        } else if (const auto it = brought.find(id); it != brought.end()) {
          known = &it->second;
        }
        if (!known) {
          brought.emplace(id, std::move(state));
        } else if (*known != state) {
          return whose + name_of(i) + ", brought forward to journal record " + std::to_string(to) +
                 ", differs from " +
                 (mine.count(id) ? "this dir's checkpoint of it there"
                                 : "the state another checkpoint brought it to");
        }
      }
      sh.start = cp->journal_pos;
      sh.states = std::move(cp->state);
    }
    checked_at = to;
    return "";
  };
  std::string why_not;
  try {
    why_not = from_checkpoints();
  } catch (const std::exception& e) {  // the cluster, a damaged checkpoint: the journal serves
    why_not = e.what();
  }
  if (!not_stopped()) return false;
  if (!why_not.empty()) {
    spdlog::warn(
        "cluster: the {} node(s) this process takes do not start from {} in the cluster: {}; it "
        "computes them from the journal's start",
        taken.size(), whose_checkpoints(from), why_not);
    shares.clear();
    shares.push_back(share{from, renewed, with_upstreams(*g, renewed), 0, {}, nullptr});
  }

  // 2. Again from there, publishing and storing, to the journal's end.
  const bool publishing = pub && opt.publish;
  // Subscribers following the nodes wherever they run (`shoal tail --cluster`) move to this
  // process's socket once they read the placement.
  if (publishing) std::this_thread::sleep_for(resubscribe_grace);
  std::vector<const inline_graph*> brought(g->nodes.size(), nullptr);  // by node: its share's
  for (auto& sh : shares) {
    sh.pass = std::make_unique<inline_pass>(g, sh.fed, [&](std::size_t i, node_runner_args& a) {
      const std::string& id = g->nodes[i].id;
      if (auto st = sh.states.find(id); st != sh.states.end()) a.checkpoint = st->second;
      if (!sh.owns[i]) return;  // another share's, or running here: stored there
      // A taken copy's outputs are stored already: the same bytes again, for
      // publish_after_commit, which holds each output until the journal through the writer's
      // last record is committed (with the cluster's acks, once replicated).
      a.writer = writer;
      if (const auto h = handed.find(id); h != handed.end() && publishing) {
        a.pub = pub;
        a.quiet_through = h->second;
        a.publish_after_commit = cfg.engine.publish_after_commit;
      }
    });
    for (std::size_t i = 0; i < g->nodes.size(); ++i)
      if (sh.owns[i]) brought[i] = &sh.pass->graph();
  }
  auto after_batch = [&] {
    writer->flush();  // never more than a batch of its outputs in the writer's queue
    return not_stopped();
  };
  std::vector<std::uint64_t> pos;
  for (const auto& sh : shares) pos.push_back(sh.start);
  auto run_to = [&](std::size_t k, std::uint64_t to, const std::function<bool()>& between) {
    if (auto why = shares[k].pass->run(*db, pos[k], to, between); !why.empty()) {
      if (!not_stopped()) return false;
      throw std::runtime_error(why);
    }
    pos[k] = to;
    return true;
  };
  auto catch_up = [&] {
    for (;;) {
      writer->flush();
      const std::uint64_t last = db->journal_last();
      if (last <= *std::min_element(pos.begin(), pos.end()) + pass_batch) return true;
      for (std::size_t k = 0; k < shares.size(); ++k)
        if (!run_to(k, last, after_batch)) return false;
    }
  };

  // 3. The last records with the graph quiet, and the actors renewed. Not while a node is paused:
  // its held inputs would reach the renewed nodes again on resume.
  std::uint64_t live_from = 0;
  if (failpoint_flag("take_fail")) throw std::runtime_error("failpoint take_fail");
  for (;;) {
    if (!catch_up()) return false;
    std::unique_lock graph_lock(graph_mu);
    if (!not_stopped() || graph != g) return false;
    if (any_paused) {
      graph_lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    live_from = quiesce_journaling([&](std::uint64_t at) {
      writer->flush();
      for (std::size_t k = 0; k < shares.size(); ++k)
        if (!run_to(k, at, [] { return true; }))
          throw std::runtime_error("stopped with the graph quiet");
      renew_taken(*g, brought);
      return at;
    });
    break;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::set<std::string> lacking;  // their outputs before P
  for (std::size_t i = 0; i < g->nodes.size(); ++i)
    if (fresh[i] && !g->nodes[i].is_stream()) lacking.insert(g->nodes[i].id);
  std::size_t copies = 0;  // new upstream copies
  for (const auto& id : lacking) copies += taken.count(id) ? 0 : 1;
  std::uint64_t latest = 0, earliest = live_from;
  nlohmann::json checkpoints = nlohmann::json::array();
  for (const auto& sh : shares) {
    latest = std::max(latest, sh.start);
    earliest = std::min(earliest, sh.start);
    if (sh.start == 0) continue;
    std::size_t n = 0, more = 0;  // nodes it brought, and those of them not taken
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      n += sh.owns[i] && !g->nodes[i].is_stream() ? 1 : 0;
      more += sh.owns[i] && !taken.count(g->nodes[i].id) ? 1 : 0;
    }
    spdlog::info(
        "cluster: this process took the {} node(s) of {} while it runs, from {}'s checkpoint in "
        "the cluster at journal record {} (checked at this dir's, {}), with {} more upstream of "
        "them, publishing from journal record {} on ({} ms)",
        n - more, sh.process, sh.process, sh.start, checked_at, more, live_from, ms);
    checkpoints.push_back({{"from", sh.process}, {"journal_pos", sh.start}, {"nodes", n}});
  }
  if (latest == 0) {
    spdlog::info(
        "cluster: this process took the {} node(s) of {} while it runs, from the journal's "
        "start, with {} more upstream of them, publishing from journal record {} on ({} ms)",
        taken.size(), from.empty() ? "a process gone" : from, copies, live_from, ms);
  } else if (!lacking.empty()) {
    add_backfill(lacking, latest);
  }
  // Live: listed and claimed from now on, with what admin says of the take.
  std::lock_guard graph_lock(graph_mu);
  for (const auto& id : taken) unpublished.erase(id);
  nlohmann::json done = {
      {"from", from},    {"while_running", true},          {"journal_pos", earliest},
      {"to", live_from}, {"nodes", taken.size() + copies}, {"ms", ms}};
  if (checkpoints.size() > 1) done["checkpoints"] = std::move(checkpoints);
  if (!why_not.empty()) done["why_not"] = why_not;
  handed_restore = std::move(done);
  checkpoint_soon = true;  // one of its new share in the cluster, for its own heir
  return true;
}

}  // namespace shoal
