// A standby that joins a placed engine (docs/cluster.md, "A standby that joins"): while the
// placement has fewer processes than [cluster] members (a process died and its nodes went to the
// others), a standby of the graph outside the placement that follows the journal gets some of
// the placed processes' nodes: place_joining moves nodes of the costliest processes to it, none
// to another process (that one would restart to compute them).
//
// The standby outside the placement computes and publishes every node (a hot spare of each: the
// same seqs and bytes), and a process giving nodes computes them already, so moving a node to it
// is a matter of who publishes, in two steps:
//  1. the active process writes the placement naming the standby, handing on with each node the
//     last seq its process published of it (the standby's heir, should it die, publishes after
//     it). Each giver goes on publishing them: a placed standby reads the placement within half
//     a second and, its share only shrunk, goes on without a restart. The joining standby reads
//     it too and restarts on its data dir as a placed process, publishing its share on from where
//     it had got to.
//  2. once the standby's member record says it published a node (the seq it had published about
//     a second before), its giver publishes nothing of it after that seq: the standby publishes
//     every output after it. The giver then stops computing it, unless something it still
//     publishes reads it (shed_cut_nodes), and with it the upstream copies only given nodes read.
// So a subscriber of both has every seq, the ones around the restart from both with the same
// bytes, and a standby that never restarts placed leaves the nodes published by their givers.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/engine/engine_impl.hpp"
#include "runtime/engine/failpoints.hpp"

namespace shoal {

namespace {

// A standby this close to the journal's end takes nodes: one still catching up would leave them
// unpublished-by-it for its catch-up and restart (their givers publish them meanwhile).
constexpr std::uint64_t joiner_records_behind = 1000;
constexpr std::int64_t joiner_lag_ms = 2000;

}  // namespace

bool engine::impl::give_nodes(const std::vector<cluster_member>& live) {
  std::unique_lock graph_lock(graph_mu);
  if (!joining.empty() ||  // one give at a time (over at the latest after give_limit)
      !cfg.cluster.active_gives ||
      static_cast<std::int64_t>(placement->members.size()) >= cfg.cluster.members)
    return false;
  const std::uint64_t committed = replicator ? replicator->stats().committed : 0;
  std::string to;  // the standby joining
  for (const auto& s : standbys_following(live)) {
    if (std::find(placement->members.begin(), placement->members.end(), s) ==
        placement->members.end()) {
      to = s;
      break;
    }
  }
  if (to.empty()) return false;
  const auto reports_now = board->snapshot();
  node_costs costs = placement_costs(reports_now);
  // What it made of each: published, or about to be (it goes on publishing them until the
  // standby does, so a seq read a little early costs duplicates, never a gap).
  member_published made;
  const auto own = own_ids();
  for (const auto& r : reports_now)
    // Restored ones included. Not raised to quiet_through as own_last_seqs does: a lower
    // handed seq costs the receiver's subscribers duplicates, never a gap.
    if (own.count(r.id)) made[r.id] = r.outputs;
  // publish_after_commit: what it made may wait for the cluster's acks, unsent. Nothing is handed
  // on (the standby's heir publishes them from their first seq until the standby reports), as
  // at a takeover for an active process's reports.
  if (cfg.engine.publish_after_commit) made.clear();
  // The standbys' nodes with what they last said they published.
  std::map<std::string, member_published> said = last_published;
  said[instance] = std::move(made);
  placement_record next = place_joining(placement_nodes(*graph, costs), *placement, to, said);
  next.costs = std::move(costs);
  std::map<std::string, std::string> moving;  // node → its giver (a standby cuts its own itself)
  std::size_t given = 0;                      // this process's
  for (const auto& [id, mb] : next.nodes) {
    if (mb != to) continue;
    const std::string& from = placement->nodes.at(id);
    moving[id] = from;
    given += from == instance ? 1 : 0;
  }
  if (moving.empty()) return false;
  // The write outside graph_mu (admin `cluster` answers meanwhile): only this thread, the
  // runner's, writes the placement.
  placement_write written = placement_write::unknown;
  graph_lock.unlock();
  auto finish = [this, next, to, committed, moving, given]() mutable {
    gave_to_joiner(std::move(next), to, committed, moving, given);
  };
  try {
    written = update_placement(next);  // not patient: read back, or again, at the next listing
  } catch (const cluster_error& e) {
    spdlog::warn(
        "cluster: writing the placement that gives standby {} nodes: {} (read back at the next "
        "listing)",
        to, e.what());
    return add_unsure(e, std::move(next), std::move(finish));
  }
  if (went_through(written)) finish();
  return written == placement_write::settled;
}

void engine::impl::gave_to_joiner(placement_record next, const std::string& to,
                                  std::uint64_t committed,
                                  const std::map<std::string, std::string>& moving,
                                  std::size_t given) {
  std::lock_guard graph_lock(graph_mu);
  placed_at = std::chrono::steady_clock::now();
  for (const auto& [id, from] : moving) {
    joining.insert(id);
    given_from[id] = from;
  }
  joining_to = to;
  joined_at = placed_at;
  spdlog::warn(
      "cluster: standby {} joined the placement of engine {}: {} of this process's nodes and {} "
      "of other standbys' go to it; each publishes its own until it does",
      to, cfg.cluster.engine_id, given, moving.size() - given);
  std::set<std::string> ids;
  for (const auto& [id, from] : moving) ids.insert(id);
  start_giving(std::move(next), to, committed, ids);
}

std::vector<std::string> engine::impl::standbys_following(
    const std::vector<cluster_member>& live) const {
  const std::uint64_t committed = replicator ? replicator->stats().committed : 0;
  std::vector<std::string> out;
  // `journal` is 0 until it follows the stream (a rebuild from its own journal comes first).
  for (const auto& mb : live)
    if (mb.instance != instance && mb.role == "standby" && mb.graph == graph->graph_hash &&
        mb.journal > 0 && mb.journal + joiner_records_behind >= committed &&
        mb.lag_ms <= joiner_lag_ms)
      out.push_back(mb.instance);
  return out;
}

std::string engine::impl::why_not_move(const std::string& id) const {
  if (!joining.empty()) return "a give to " + joining_to + " is under way: move once it is over";
  // Given to a standby that has not said it published it: its giver still publishes it, and
  // would go on for ever should it move on from there.
  if (given_from.count(id) || giving.count(id))
    return "it is being given to a standby that has not said it published it";
  const auto at = placement->nodes.find(id);
  if (at == placement->nodes.end()) return "the placement does not name it";
  // What this process said it published may still wait for the cluster's acks: it would hand on
  // nothing, and the receiver would compute every node from the journal's start.
  if (at->second == instance && cfg.engine.publish_after_commit)
    return "with publish_after_commit the active process's own nodes do not move";
  return "";
}

void engine::impl::refuse_move(const std::string& why) {
  if (!move_asked) return;
  spdlog::warn("cluster: node {} does not move to {}: {}", move_asked->name, move_asked->to, why);
  move_state = {{"node", move_asked->name},
                {"to", move_asked->to},
                {"why_not", why},
                {"by", move_asked->rebalance ? "rebalance" : "admin"}};
  move_asked.reset();
}

void engine::impl::rebalance(const std::vector<cluster_member>& live) {
  if (cfg.cluster.rebalance_above <= 0 || !cfg.cluster.checkpoints) return;
  const auto now = std::chrono::steady_clock::now();
  const auto every = std::chrono::nanoseconds(cfg.cluster.rebalance_every_ns);
  // The first one a period after the start: the costs are measured by then.
  if (!rebalanced_at) rebalanced_at = now;
  if (now - *rebalanced_at < every) return;
  std::unique_lock graph_lock(graph_mu);
  if (!joining.empty() || move_asked) return;
  rebalanced_at = now;  // once a period, whatever it finds
  node_costs costs = placement_costs(board->snapshot());
  // Only on costs measured of every placed node: a guess would move nodes back and forth.
  for (const auto& n : graph->nodes)
    if (!n.is_stream() && !costs.count(n.id)) return;
  // To a standby that follows the journal (never the active process, which takes nodes only
  // when no standby can); a node that cannot move now is left where it is, and the best move of
  // the others is looked for.
  std::set<std::string> fixed;
  for (const auto& n : graph->nodes)
    if (!n.is_stream() && !why_not_move(n.id).empty()) fixed.insert(n.id);
  const auto mv =
      place_rebalance(placement_nodes(*graph, costs), *placement, standbys_following(live),
                      cfg.cluster.rebalance_above, 0.1, fixed);
  if (!mv) return;
  std::string name;
  for (const auto& n : graph->nodes)
    if (n.id == mv->id) name = n.name();
  move_asked = move_request{
      mv->id, name, mv->to, true,
      fmt::format("{} computes {:.3g} s per 1,000 events, more than {} times what {} computes "
                  "({:.3g} s); the costlier of them is left at {:.3g} s",
                  mv->from, mv->from_cost * 1000, cfg.cluster.rebalance_above, mv->to,
                  mv->to_cost * 1000, mv->after * 1000)};
}

void engine::impl::move_node(const std::vector<cluster_member>& live) {
  std::unique_lock graph_lock(graph_mu);
  if (!move_asked) return;
  // Kept asked until done: admin refuses another one meanwhile (the write is unlocked).
  const move_request req = *move_asked;
  const std::string& name = req.name;
  // Checked again here: the placement or the members may have changed since it was asked.
  if (auto why = why_not_move(req.id); !why.empty()) return refuse_move(why);
  const std::string from = placement->nodes.at(req.id);
  if (from == req.to) return refuse_move("it is there already");
  if (std::find(placement->members.begin(), placement->members.end(), req.to) ==
      placement->members.end())
    return refuse_move("it is not a placed process");
  // One that restarts, or catches up, would leave the node published by its old process only
  // for longer; one gone is a loss, not a move.
  const auto following = standbys_following(live);
  auto follows = [&](const std::string& p) {
    return std::find(following.begin(), following.end(), p) != following.end();
  };
  if (!follows(req.to)) return refuse_move("it does not follow the journal close to its end");
  if (from != instance && !follows(from))
    return refuse_move(from + ", which publishes it, does not follow the journal");
  const std::uint64_t committed = replicator ? replicator->stats().committed : 0;
  node_costs costs = placement_costs(board->snapshot());
  // Handed on with what its process's member record last said it published (this one's too, not
  // what it made: the receiver publishes only after it, so it must have been sent).
  placement_record next = *placement;
  next.nodes[req.id] = req.to;
  record_hand_overs(next, *placement, last_published);
  next.costs = std::move(costs);
  placement_write written = placement_write::unknown;
  graph_lock.unlock();
  auto finish = [this, next, req, from, committed]() mutable {
    moved_node(std::move(next), req, from, committed);
  };
  try {
    written = update_placement(next);
  } catch (const cluster_error& e) {  // asked still: read back, or again, at the next listing
    spdlog::warn(
        "cluster: writing the placement that moves node {}: {} (read back at the next listing)",
        name, e.what());
    add_unsure(e, std::move(next), std::move(finish));
    return;
  }
  if (written == placement_write::overwritten) {  // asked still otherwise: the next listing
    graph_lock.lock();
    refuse_move("the placement was written by another process");
    graph_lock.unlock();
  }
  if (went_through(written)) finish();
}

void engine::impl::moved_node(placement_record next, const move_request& req,
                              const std::string& from, std::uint64_t committed) {
  const std::string& name = req.name;
  std::lock_guard graph_lock(graph_mu);
  // Done, unless another was asked since (this write landed late): that one is checked at the
  // next listing against the placement now, and refused then if it cannot go.
  if (move_asked && move_asked->id == req.id && move_asked->to == req.to) move_asked.reset();
  placed_at = std::chrono::steady_clock::now();
  joining = {req.id};
  given_from[req.id] = from;
  joining_to = req.to;
  joined_at = placed_at;
  const std::uint64_t handed = next.handed.count(req.id) ? next.handed.at(req.id) : 0;
  move_state = {{"node", name},
                {"from", from},
                {"to", req.to},
                {"handed", handed},
                {"by", req.rebalance ? "rebalance" : "admin"}};
  if (req.rebalance) spdlog::warn("cluster: rebalancing by measured cost: {}", req.why);
  spdlog::warn(
      "cluster: node {} moves from {} to {} ({}), handed on after seq {}: {} restarts to compute "
      "it, and {} publishes it until {} does",
      name, from, req.to, req.rebalance ? "rebalance" : "admin move", handed, req.to, from, req.to);
  start_giving(std::move(next), req.to, committed, {req.id});
}

void engine::impl::start_giving(placement_record next, const std::string& joiner,
                                std::uint64_t journal_pos, const std::set<std::string>& moving) {
  nlohmann::json names = nlohmann::json::array(), handed = nlohmann::json::object();
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    const std::string& id = graph->nodes[i].id;
    const auto was = placement->nodes.find(id);
    const auto now = next.nodes.find(id);
    if (!moving.count(id) || was == placement->nodes.end() || was->second != instance ||
        now == next.nodes.end() || now->second == instance)
      continue;
    giving[id] = now->second;
    names.push_back(graph->nodes[i].name());
    handed[graph->nodes[i].name()] = next.handed.count(id) ? next.handed.at(id) : 0;
    board->update(reports[i], [&](node_report& r) { r.reason = "placed on " + now->second; });
  }
  if (!names.empty()) {  // what admin says of the last give of this process's nodes
    checkpoint_soon = true;  // one that lists them unpublished here: a restart must not resume them
    gave_at = std::chrono::steady_clock::now();
    gave = {{"to", joiner},
            {"nodes", names},
            {"journal_pos", journal_pos},
            {"handed", handed},
            {"stopped", nlohmann::json::object()}};
  }
  placement = std::move(next);
}

void engine::impl::stop_publishing_given(const std::vector<cluster_member>& live) {
  for (auto it = giving.begin(); it != giving.end();) {
    const auto& [id, joiner] = *it;
    const auto said = said_published(live, joiner, id);
    if (!said) {  // not yet (gone: the node moves back, or on)
      ++it;
      continue;
    }
    // It published every output after `said` (it has run placed since before it said so).
    if (auto c = publish_cuts.find(id); c != publish_cuts.end())
      c->second->store(*said, std::memory_order_release);
    for (const auto& n : graph->nodes)
      if (n.id == id) gave["stopped"][n.name()] = *said;
    cut_pending.insert(id);
    given_exported[id] = *said;
    it = giving.erase(it);
  }
  if (!giving.empty()) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - gave_at)
                      .count();
  gave["ms"] = ms;
  spdlog::info(
      "cluster: standby {} publishes the {} node(s) this process gave it ({} ms after the "
      "placement): this one publishes none of them after the seq it said",
      gave.value("to", ""), gave["stopped"].size(), ms);
}

void engine::impl::shed_cut_nodes() {
  std::lock_guard graph_lock(graph_mu);
  if (cut_pending.empty() || !placement || computed.empty() || !sys) return;
  // Again at the next listing; a restart places and spawns anew.
  if (taking || any_paused || restart) return;
  const plan& g = *graph;
  // What it must go on computing: its share under the placement, and what it still publishes
  // until the joiner says it does (uncut), each with its upstreams.
  const std::vector<bool> share = computed_by(placement_nodes(g), placement->nodes, instance);
  std::vector<bool> uncut(g.nodes.size()), cut(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    uncut[i] = giving.count(g.nodes[i].id) != 0;
    cut[i] = cut_pending.count(g.nodes[i].id) != 0;
  }
  uncut = with_upstreams(g, std::move(uncut));
  cut = with_upstreams(g, std::move(cut));
  cut_pending.clear();
  std::vector<std::size_t> shed;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (cut[i] && computes(i) && !share[i] && !uncut[i] && !g.nodes[i].is_stream()) {
      shed.push_back(i);
    }
  }
  if (shed.empty()) return;
  // Nothing that stays computed reads them (it would be in `share` or `uncut`), so once their
  // upstreams stop sending to them, nothing reaches them. The renew comes after what was sent
  // before (one mailbox, in order): every input sent is handled, as flow control counts. No
  // deadline, as for a checkpoint: no actor waits on graph_mu. An actor that answers with an
  // error (gone) is noted, and the node counts as not computed all the same: nothing kept reads
  // it, and should it come back here, a take or a restart starts it anew.
  caf::scoped_actor self{*sys};
  auto ask = [&](const caf::actor& to, const caf::message& m, std::size_t i) {
    self->request(to, caf::infinite, m)
        .receive([](bool) {},
                 [&](caf::error& e) {
                   spdlog::warn("cluster: stopping node {} given away: {}", g.nodes[i].name(),
                                sys->render(e));
                 });
  };
  nlohmann::json names = nlohmann::json::array();
  for (const std::size_t i : shed) {
    for (const auto& in : g.nodes[i].inputs) {
      ask(node_actors[in.upstream], caf::make_message(unsubscribe_atom::value, node_actors[i]), i);
    }
    ask(node_actors[i], caf::make_message(renew_atom::value, false, std::string()), i);
    computed[i] = false;
    const auto at = placement->nodes.find(g.nodes[i].id);
    const std::string where = at != placement->nodes.end() ? at->second : "another process";
    board->update(reports[i], [&](node_report& r) { r.reason = "placed on " + where; });
    names.push_back(g.nodes[i].name());
  }
  checkpoint_soon = true;  // its share shrank: the next checkpoint lists what it computes now
  auto& listed = gave["no_longer_computed"];
  for (const auto& n : names) listed.push_back(n);
  spdlog::info(
      "cluster: this process no longer computes {} node(s) it gave away ({}): nothing it "
      "publishes reads them",
      names.size(), names.dump());
}

void engine::impl::follow_joining() {
  try {
    if (failpoint_flag("join_stall")) return;
  } catch (const std::invalid_argument&) {  // a bad SHOAL_FAILPOINTS fails every node already
  }
  const auto r = read_placement();
  if (!r || std::find(r->members.begin(), r->members.end(), instance) == r->members.end()) return;
  std::lock_guard graph_lock(graph_mu);
  // It took the engine over meanwhile (or is taking it): it places, it is not placed.
  if (!standby || promoted_in_place) return;
  std::size_t mine = 0;
  for (const auto& [id, mb] : r->nodes) mine += mb == instance ? 1 : 0;
  spdlog::warn(
      "cluster: the active process placed {} node(s) on this standby: it restarts on its data "
      "dir to compute them, publishing on from where it got to",
      mine);
  restart = true;
}

}  // namespace shoal
