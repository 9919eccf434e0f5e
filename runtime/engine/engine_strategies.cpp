// Strategies submitted to and removed from a running engine (design §4, §9): the engine
// re-plans with the strategy's nodes added or taken away, keeps every actor whose NodeID
// survives, spawns only new nodes (upstream first) and stops only nodes no strategy uses.
#include <set>

#include "runtime/engine/engine_impl.hpp"

namespace shoal {
namespace {

using json = nlohmann::json;

std::shared_ptr<const plan> replan(const config& next) {
  try {
    return std::make_shared<const plan>(build_plan(next));
  } catch (const config_error& e) {
    throw admin_error(e.what());
  }
}

void ask(caf::actor_system& sys, const caf::actor& a, const caf::message& msg) {
  caf::scoped_actor self{sys};
  self->request(a, std::chrono::seconds(10), msg)
      .receive([](bool) {},
               [&](caf::error& e) { throw admin_error("node actor: " + sys.render(e)); });
}

// Moves the engine onto plan `g`: actors and reports indexed by g's nodes, names refreshed.
void adopt(engine::impl& m, config next, std::shared_ptr<const plan> g,
           const std::map<std::string, caf::actor>& actor_by_id,
           const std::map<std::string, std::shared_ptr<node_report>>& report_by_id) {
  std::vector<caf::actor> actors(g->nodes.size());
  std::vector<std::shared_ptr<node_report>> reports(g->nodes.size());
  std::map<std::string, const plan_node*> before;
  for (const auto& n : m.graph->nodes) before[n.id] = &n;
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    actors[i] = actor_by_id.at(g->nodes[i].id);
    reports[i] = report_by_id.at(g->nodes[i].id);
    auto it = before.find(g->nodes[i].id);
    if (it != before.end() && it->second->names != g->nodes[i].names)
      ask(*m.sys, actors[i], caf::make_message(names_atom::value, g->nodes[i].names));
  }
  m.cfg = std::move(next);
  m.graph = std::move(g);
  m.node_actors = std::move(actors);
  m.reports = std::move(reports);
}

}  // namespace

json engine_submit(engine::impl& m, const std::string& file) {
  std::string name;
  std::vector<node_decl> nodes;
  try {
    nodes = load_strategy_file(file, &name);
  } catch (const config_error& e) {
    throw admin_error(e.what());
  }
  for (const auto& n : m.cfg.nodes)
    if (n.strategy == name) throw admin_error("strategy \"" + name + "\" is already running");
  config next = m.cfg;
  next.engine.strategies.push_back(file);
  for (auto& n : nodes) next.nodes.push_back(std::move(n));
  auto g = replan(next);

  std::map<std::string, caf::actor> actor_by_id;
  std::map<std::string, std::shared_ptr<node_report>> report_by_id;
  for (std::size_t i = 0; i < m.graph->nodes.size(); ++i) {
    actor_by_id[m.graph->nodes[i].id] = m.node_actors[i];
    report_by_id[m.graph->nodes[i].id] = m.reports[i];
  }
  json fresh = json::array(), reused = json::array(), topics = json::array();
  std::vector<std::pair<std::size_t, caf::actor>> spawned;
  // A submit that fails half-way (a node actor not answering) is undone: the new actors are
  // unsubscribed (best effort) and stopped, so no orphan keeps publishing the strategy's topics.
  auto undo = [&] {
    for (auto it = spawned.rbegin(); it != spawned.rend(); ++it) {
      const plan_node& n = g->nodes[it->first];
      for (const auto& in : n.inputs) {
        auto up = actor_by_id.find(g->nodes[in.upstream].id);
        if (up == actor_by_id.end()) continue;
        try {
          ask(*m.sys, up->second, caf::make_message(unsubscribe_atom::value, it->second));
        } catch (...) {
        }
      }
      caf::anon_send_exit(it->second, caf::exit_reason::user_shutdown);
      m.board->remove(report_by_id[n.id]);
      --m.counts.node_actors;
    }
  };
  try {
    // g->nodes is topological: every upstream exists (old or just spawned) before its subscriber.
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      const plan_node& n = g->nodes[i];
      const bool ours = std::count(n.strategies.begin(), n.strategies.end(), name) > 0;
      if (ours)
        for (const auto& topic : n.names)
          if (topic.rfind(name + ".", 0) == 0) topics.push_back(topic);
      if (actor_by_id.count(n.id)) {
        if (ours) reused.push_back(n.id);
        continue;
      }
      node_report r;
      r.id = n.id;
      r.kind = n.kind;
      r.names = n.names;
      auto report = m.board->add(std::move(r));
      caf::actor a =
          spawn_node_host(*m.sys, node_host_args{g,
                                                 i,
                                                 {},
                                                 m.opt.publish ? m.pub : nullptr,
                                                 m.writer,
                                                 m.flow,
                                                 m.board,
                                                 report,
                                                 std::nullopt,
                                                 m.digests ? m.digests->chain(n.id) : nullptr});
      report_by_id[n.id] = report;
      spawned.emplace_back(i, a);  // before subscribing: undo() must know it
      ++m.counts.node_actors;
      for (std::size_t p = 0; p < n.inputs.size(); ++p)
        ask(*m.sys, actor_by_id.at(g->nodes[n.inputs[p].upstream].id),
            caf::make_message(subscribe_atom::value, a, static_cast<std::uint32_t>(p)));
      actor_by_id[n.id] = a;
      fresh.push_back(n.id);
    }
    adopt(m, std::move(next), g, actor_by_id, report_by_id);
  } catch (...) {
    undo();
    throw;
  }
  spdlog::info("strategy {} submitted: {} new nodes, {} reused", name, fresh.size(), reused.size());
  return {{"strategy", name}, {"new", fresh}, {"reused", reused}, {"topics", topics}};
}

json engine_remove(engine::impl& m, const std::string& strategy) {
  config next = m.cfg;
  const auto before = next.nodes.size();
  next.nodes.erase(std::remove_if(next.nodes.begin(), next.nodes.end(),
                                  [&](const node_decl& n) { return n.strategy == strategy; }),
                   next.nodes.end());
  if (next.nodes.size() == before) throw admin_error("no strategy \"" + strategy + "\" is running");
  auto g = replan(next);  // fails if a remaining node reads one of the strategy's nodes
  std::set<std::string> keep;
  for (const auto& n : g->nodes) keep.insert(n.id);

  std::map<std::string, caf::actor> actor_by_id;
  std::map<std::string, std::shared_ptr<node_report>> report_by_id;
  json removed = json::array(), kept = json::array();
  for (std::size_t i = 0; i < m.graph->nodes.size(); ++i) {
    const plan_node& n = m.graph->nodes[i];
    if (keep.count(n.id)) {
      actor_by_id[n.id] = m.node_actors[i];
      report_by_id[n.id] = m.reports[i];
      if (std::count(n.strategies.begin(), n.strategies.end(), strategy)) kept.push_back(n.id);
    }
  }
  // Stop what no strategy uses, downstream first. Unsubscribed first, then synced: everything
  // sent to it before is handled (flow control stays balanced), then it exits.
  for (std::size_t i = m.graph->nodes.size(); i-- > 0;) {
    const plan_node& n = m.graph->nodes[i];
    if (keep.count(n.id)) continue;
    for (const auto& in : n.inputs)
      ask(*m.sys, m.node_actors[in.upstream],
          caf::make_message(unsubscribe_atom::value, m.node_actors[i]));
    ask(*m.sys, m.node_actors[i], caf::make_message(names_atom::value, n.names));
    caf::anon_send_exit(m.node_actors[i], caf::exit_reason::user_shutdown);
    m.board->remove(m.reports[i]);
    // Its checkpoint would be stale if a restart brought the node back: start it fresh then.
    if (m.writer) m.writer->erase_state(n.id);
    --m.counts.node_actors;
    removed.push_back(n.id);
  }
  next.engine.strategies.erase(
      std::remove_if(next.engine.strategies.begin(), next.engine.strategies.end(),
                     [&](const std::string& f) {
                       std::string name;
                       try {
                         load_strategy_file(f, &name);
                       } catch (...) {
                         return false;
                       }
                       return name == strategy;
                     }),
      next.engine.strategies.end());
  adopt(m, std::move(next), g, actor_by_id, report_by_id);
  bool paused = false;
  for (const auto& r : m.board->snapshot()) paused |= r.paused;
  m.any_paused = paused;
  spdlog::info("strategy {} removed: {} nodes stopped, {} shared nodes kept", strategy,
               removed.size(), kept.size());
  return {{"strategy", strategy}, {"removed", removed}, {"kept", kept}};
}

}  // namespace shoal
