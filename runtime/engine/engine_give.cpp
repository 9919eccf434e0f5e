// A standby that joins a placed engine (docs/cluster.md, "A standby that joins"): while the
// placement has fewer processes than [cluster] members (a process died and the active one took
// its nodes), a standby of the graph outside the placement, caught up with the journal, gets some
// of the active process's nodes: place_joining places them on the two of them by measured cost;
// the other standbys keep theirs (a change would restart them).
//
// The standby outside the placement computes and publishes every node (a hot spare of each), so
// moving a node to it is a matter of who stops publishing: with the graph quiet, the active
// process reads the last seq it published of each node it gives, writes the placement handing
// those seqs on (the standby's heir, should it die, publishes after them), and publishes nothing
// of those nodes after them. It keeps computing them (they may be upstream of its own). The
// standby reads the placement within half a second, restarts on its data dir as a placed process
// and publishes its share from where it had got to: no seq is missing, and a seq both published
// has the same bytes.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/engine/engine_impl.hpp"

namespace shoal {

namespace {

// A standby this close to the journal's end takes nodes: one still catching up would leave them
// to its restart and catch-up.
constexpr std::uint64_t joiner_records_behind = 1000;
constexpr std::int64_t joiner_lag_ms = 2000;

}  // namespace

void engine::impl::give_nodes(const std::vector<cluster_member>& live) {
  if (!cfg.cluster.active_gives ||
      static_cast<std::int64_t>(placement->members.size()) >= cfg.cluster.members)
    return;
  std::unique_lock graph_lock(graph_mu);
  const std::uint64_t committed = replicator ? replicator->stats().committed : 0;
  std::string joiner;
  for (const auto& mb : live) {
    const bool placed = std::find(placement->members.begin(), placement->members.end(),
                                  mb.instance) != placement->members.end();
    if (!placed && mb.role == "standby" && mb.graph == graph->graph_hash &&
        mb.journal + joiner_records_behind >= committed && mb.lag_ms <= joiner_lag_ms) {
      joiner = mb.instance;
      break;
    }
  }
  if (joiner.empty()) return;
  node_costs costs;  // as place_lost_nodes weighs them
  std::set<std::string> ids;
  for (const auto& n : graph->nodes) ids.insert(n.id);
  for (const auto* from : {&placement->costs, &measured_costs})
    for (const auto& [id, cost] : *from)
      if (ids.count(id)) costs[id] = cost;
  for (const auto& [id, cost] : own_costs(board->snapshot())) costs[id] = cost;
  const auto nodes = placement_nodes(*graph, costs);
  const auto own = own_ids();

  placement_record next;
  std::set<std::string> given;
  bool written = false;
  std::string failed;
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t at = quiesce_journaling([&](std::uint64_t pos) {
    // Quiet: every actor has reported the last seq it made, and makes none until this returns.
    member_published cut;
    for (const auto& r : board->snapshot())
      if (own.count(r.id)) cut[r.id] = r.last_seq;
    next = place_joining(nodes, *placement, instance, joiner, cut);
    next.costs = costs;
    for (const auto& [id, mb] : next.nodes)
      if (mb == joiner) given.insert(id);
    if (given.empty()) return pos;
    try {
      written = placements->update(next);  // not patient: again at the next listing
    } catch (const cluster_error& e) {
      failed = e.what();
      return pos;
    }
    if (written)
      for (const auto& id : given)
        if (auto c = publish_cuts.find(id); c != publish_cuts.end())
          c->second->store(cut[id], std::memory_order_release);
    return pos;
  });
  if (given.empty()) return;  // nothing of this process's would go to it
  if (!failed.empty()) {
    spdlog::warn(
        "cluster: writing the placement that gives standby {} nodes: {} (again at the next "
        "listing)",
        joiner, failed);
    return;
  }
  if (!written) {
    graph_lock.unlock();
    spdlog::error(
        "cluster: the placement of engine {} was written by another process since this one "
        "wrote it (it took the engine's lease): this process stops ingesting and placing",
        cfg.cluster.engine_id);
    fence();
    return;
  }
  placed_at = std::chrono::steady_clock::now();
  const auto quiet_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(placed_at - t0).count();
  nlohmann::json names = nlohmann::json::array();
  for (std::size_t i = 0; i < graph->nodes.size(); ++i) {
    if (!given.count(graph->nodes[i].id)) continue;
    names.push_back(graph->nodes[i].name());
    board->update(reports[i], [&](node_report& r) { r.reason = "placed on " + joiner; });
  }
  spdlog::warn(
      "cluster: standby {} joined the placement of engine {}: {} of this process's nodes go to "
      "it, which publishes them after the seqs this one published (journal record {}; the graph "
      "quiet {} ms)",
      joiner, cfg.cluster.engine_id, given.size(), at, quiet_ms);
  gave = {{"to", joiner}, {"nodes", names}, {"journal_pos", at}, {"ms", quiet_ms}};
  placement = std::move(next);
}

void engine::impl::follow_joining() {
  std::optional<placement_record> r;
  try {
    r = placements->read(graph->graph_hash);
  } catch (const cluster_error& e) {
    spdlog::debug("cluster: reading the placement of engine {}: {}", cfg.cluster.engine_id,
                  e.what());
    return;
  }
  if (!r || std::find(r->members.begin(), r->members.end(), instance) == r->members.end()) return;
  std::size_t mine = 0;
  for (const auto& [id, mb] : r->nodes) mine += mb == instance ? 1 : 0;
  spdlog::warn(
      "cluster: the active process placed {} node(s) on this standby: it restarts on its data "
      "dir to compute them, publishing on from where it got to",
      mine);
  restart = true;
}

}  // namespace shoal
