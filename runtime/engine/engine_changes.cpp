// Changes to a running graph (design §4, §9): strategies submitted and removed, nodes restarted.
// Each is applied with the graph quiet and journaled at that position (live), so a replay and a
// restart apply it at the same point and get the same outputs:
//  - submit re-plans with the strategy's nodes, spawns only new NodeIDs and warms them from the
//    stored outputs of their running upstreams (without publishing the rebuilt buckets), so they
//    are RUNNING at once; their output seqs continue after any their NodeID already has;
//  - remove stops the nodes no strategy uses any more; shared ones keep running;
//  - restart brings a FAILED node back, where it stands or cold.
#include <set>

#include "actors/core/kind_registry.hpp"
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

bool running(const engine::impl& m, const std::string& strategy) {
  for (const auto& n : m.cfg.nodes)
    if (n.strategy == strategy) return true;
  return false;
}

struct submit_plan {
  std::string name;
  runtime_strategies rt;
  config next;
  std::shared_ptr<const plan> g;
  std::vector<std::size_t> fresh;  // indices into g of nodes no actor runs yet
  json answer;
};

submit_plan plan_submit(engine::impl& m, const std::string& text) {
  submit_plan s;
  s.name = strategy_name_of(text);
  if (running(m, s.name)) throw admin_error("strategy \"" + s.name + "\" is already running");
  s.rt = m.rt;
  s.rt.submit(s.name, text);
  try {
    s.next = apply_runtime_strategies(m.base_cfg, s.rt);
  } catch (const config_error& e) {
    throw admin_error(e.what());
  }
  s.g = replan(s.next);
  std::set<std::string> have;
  for (const auto& n : m.graph->nodes) have.insert(n.id);
  json fresh = json::array(), reused = json::array(), topics = json::array();
  for (std::size_t i = 0; i < s.g->nodes.size(); ++i) {
    const plan_node& n = s.g->nodes[i];
    const bool ours = std::count(n.strategies.begin(), n.strategies.end(), s.name) > 0;
    if (ours)
      for (const auto& topic : n.names)
        if (topic.rfind(s.name + ".", 0) == 0) topics.push_back(topic);
    if (have.count(n.id)) {
      if (ours) reused.push_back(n.id);
      continue;
    }
    s.fresh.push_back(i);
    fresh.push_back(n.id);
  }
  s.answer = {{"strategy", s.name}, {"new", fresh}, {"reused", reused}, {"topics", topics}};
  return s;
}

struct remove_plan {
  runtime_strategies rt;
  config next;
  std::shared_ptr<const plan> g;
  json answer;
};

remove_plan plan_remove(engine::impl& m, const std::string& strategy) {
  if (strategy.empty()) throw admin_error("remove needs a strategy name");
  if (!running(m, strategy)) throw admin_error("no strategy \"" + strategy + "\" is running");
  remove_plan r;
  r.rt = m.rt;
  r.rt.remove(strategy);
  r.next = apply_runtime_strategies(m.base_cfg, r.rt);
  r.g = replan(r.next);  // fails if a remaining node reads one of the strategy's nodes
  std::set<std::string> keep;
  for (const auto& n : r.g->nodes) keep.insert(n.id);
  json removed = json::array(), kept = json::array();
  for (const auto& n : m.graph->nodes) {
    if (!keep.count(n.id))
      removed.push_back(n.id);
    else if (std::count(n.strategies.begin(), n.strategies.end(), strategy))
      kept.push_back(n.id);
  }
  r.answer = {{"strategy", strategy}, {"removed", removed}, {"kept", kept}};
  return r;
}

// Moves the engine onto plan g: actors and reports indexed by g's nodes, names refreshed.
void adopt(engine::impl& m, config next, runtime_strategies rt, std::shared_ptr<const plan> g,
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
  m.rt = std::move(rt);
  m.graph = std::move(g);
  m.node_actors = std::move(actors);
  m.reports = std::move(reports);
}

// Buckets of input history a new node and the new nodes below it need, or nullopt for all.
std::vector<std::optional<std::size_t>> warm_depths(const plan& g,
                                                    const std::vector<std::size_t>& fresh) {
  std::vector<std::optional<std::size_t>> depth(g.nodes.size(), std::size_t{0});
  const std::set<std::size_t> is_new(fresh.begin(), fresh.end());
  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {  // downstream first
    const plan_node& n = g.nodes[*it];
    auto own = find_kind(n.kind)->warm_history(n.params, n.interval_ns, n.period);
    std::optional<std::size_t> below = std::size_t{0};
    for (std::size_t d : fresh) {
      const auto& dn = g.nodes[d];
      const bool reads = std::any_of(dn.inputs.begin(), dn.inputs.end(),
                                     [&](const plan_input& in) { return in.upstream == *it; });
      if (!reads) continue;
      if (!depth[d] || !below) {
        below.reset();
      } else {
        below = std::max(*below, *depth[d]);
      }
    }
    depth[*it] = own && below ? std::optional<std::size_t>(*own + *below) : std::nullopt;
  }
  return depth;
}

// Feeds the new nodes (spawned warming, new-to-new edges subscribed) the stored outputs of
// their running upstreams, up to what each upstream has emitted so far, then ends their warm
// start. Reads this run's store, or in a replay that stores nothing the recorded dir (its
// outputs are the same until this point: that is what parity checks).
void warm_start(engine::impl& m, const plan& g, const std::vector<std::size_t>& fresh,
                const std::map<std::string, caf::actor>& actor_by_id,
                const std::set<std::string>& new_ids) {
  const store* history = m.db ? m.db.get() : m.replay_source;
  if (m.writer) m.writer->flush();
  const auto depth = warm_depths(g, fresh);
  const auto reports = m.board->snapshot();
  std::map<std::string, const node_report*> report_of;
  for (const auto& r : reports) report_of[r.id] = &r;
  const decode_limits big = stored_data_limits();
  std::size_t fed = 0;
  for (std::size_t i : fresh) {
    const plan_node& n = g.nodes[i];
    const caf::actor& target = actor_by_id.at(n.id);
    for (std::size_t p = 0; p < n.inputs.size(); ++p) {
      const plan_node& up = g.nodes[n.inputs[p].upstream];
      if (new_ids.count(up.id) || !history) continue;
      auto r = report_of.find(up.id);
      if (r == report_of.end() || r->second->last_seq == 0) continue;  // nothing emitted yet
      const std::int64_t through = r->second->last_bucket;
      const std::int64_t after =
          depth[i] ? through - static_cast<std::int64_t>(*depth[i]) * n.interval_ns : INT64_MIN;
      history->for_each_output_of(up.id, after, through, [&](std::int64_t, std::string_view bytes) {
        Output o = decode_output(bytes, big);
        m.flow->sent();
        caf::anon_send(target, output_atom::value, static_cast<std::uint32_t>(p), o.seq, o.bucket,
                       o.value, std::int64_t{0});
        ++fed;
      });
    }
  }
  m.flow->wait_idle();
  for (std::size_t i : fresh) {
    const plan_node& n = g.nodes[i];
    std::vector<std::uint32_t> renumbered;
    for (std::size_t p = 0; p < n.inputs.size(); ++p)
      if (new_ids.count(g.nodes[n.inputs[p].upstream].id))
        renumbered.push_back(static_cast<std::uint32_t>(p));
    ask(*m.sys, actor_by_id.at(n.id), caf::make_message(warm_done_atom::value, renumbered));
  }
  if (!history && !fresh.empty())
    spdlog::warn("no stored history (no data dir): submitted nodes start cold");
  else
    spdlog::info("warmed {} new nodes from {} stored outputs", fresh.size(), fed);
}

json apply_submit(engine::impl& m, const std::string& text, const value_map& seq_after) {
  submit_plan s = plan_submit(m, text);
  const plan& g = *s.g;
  std::map<std::string, caf::actor> actor_by_id;
  std::map<std::string, std::shared_ptr<node_report>> report_by_id;
  for (std::size_t i = 0; i < m.graph->nodes.size(); ++i) {
    actor_by_id[m.graph->nodes[i].id] = m.node_actors[i];
    report_by_id[m.graph->nodes[i].id] = m.reports[i];
  }
  std::set<std::string> new_ids;
  std::vector<std::pair<std::size_t, caf::actor>> spawned;
  // A submit that fails half-way (a node actor not answering) is undone: the new actors are
  // unsubscribed (best effort) and stopped, so no orphan keeps publishing the strategy's topics.
  auto undo = [&] {
    for (auto it = spawned.rbegin(); it != spawned.rend(); ++it) {
      const plan_node& n = g.nodes[it->first];
      for (const auto& in : n.inputs) {
        auto up = actor_by_id.find(g.nodes[in.upstream].id);
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
    // g.nodes is topological: a new node's new upstreams are spawned before it.
    for (std::size_t i : s.fresh) {
      const plan_node& n = g.nodes[i];
      auto report = m.add_report(n);
      auto args = m.node_args(s.g, i, report, std::nullopt, true);
      auto seq = seq_after.find(n.id);
      args.runner.seq_after = seq != seq_after.end() && seq->second.is_int()
                                  ? static_cast<std::uint64_t>(seq->second.as_int())
                                  : m.seq_after(n.id);
      caf::actor a = spawn_node_host(*m.sys, std::move(args));
      report_by_id[n.id] = report;
      spawned.emplace_back(i, a);  // before subscribing: undo() must know it
      ++m.counts.node_actors;
      actor_by_id[n.id] = a;
      new_ids.insert(n.id);
      for (std::size_t p = 0; p < n.inputs.size(); ++p)
        if (new_ids.count(g.nodes[n.inputs[p].upstream].id))
          ask(*m.sys, actor_by_id.at(g.nodes[n.inputs[p].upstream].id),
              caf::make_message(subscribe_atom::value, a, static_cast<std::uint32_t>(p)));
    }
    warm_start(m, g, s.fresh, actor_by_id, new_ids);
    // Live from here: the running upstreams feed the new nodes from the next output on.
    for (std::size_t i : s.fresh) {
      const plan_node& n = g.nodes[i];
      for (std::size_t p = 0; p < n.inputs.size(); ++p)
        if (!new_ids.count(g.nodes[n.inputs[p].upstream].id))
          ask(*m.sys, actor_by_id.at(g.nodes[n.inputs[p].upstream].id),
              caf::make_message(subscribe_atom::value, actor_by_id.at(n.id),
                                static_cast<std::uint32_t>(p)));
    }
    adopt(m, std::move(s.next), std::move(s.rt), s.g, actor_by_id, report_by_id);
  } catch (...) {
    undo();
    throw;
  }
  spdlog::info("strategy {} submitted: {} new nodes, {} reused", s.name, s.answer["new"].size(),
               s.answer["reused"].size());
  return s.answer;
}

json apply_remove(engine::impl& m, const std::string& strategy) {
  remove_plan r = plan_remove(m, strategy);
  std::set<std::string> keep;
  for (const auto& n : r.g->nodes) keep.insert(n.id);
  std::map<std::string, caf::actor> actor_by_id;
  std::map<std::string, std::shared_ptr<node_report>> report_by_id;
  for (std::size_t i = 0; i < m.graph->nodes.size(); ++i) {
    const plan_node& n = m.graph->nodes[i];
    if (keep.count(n.id)) {
      actor_by_id[n.id] = m.node_actors[i];
      report_by_id[n.id] = m.reports[i];
    }
  }
  const auto reports = m.board->snapshot();
  // Stop what no strategy uses, downstream first. The graph is quiet: nothing is in flight.
  for (std::size_t i = m.graph->nodes.size(); i-- > 0;) {
    const plan_node& n = m.graph->nodes[i];
    if (keep.count(n.id)) continue;
    for (const auto& in : n.inputs)
      ask(*m.sys, m.node_actors[in.upstream],
          caf::make_message(unsubscribe_atom::value, m.node_actors[i]));
    for (const auto& rep : reports)
      if (rep.id == n.id) m.retired_seq[n.id] = std::max(m.retired_seq[n.id], rep.outputs);
    caf::anon_send_exit(m.node_actors[i], caf::exit_reason::user_shutdown);
    m.board->remove(m.reports[i]);
    --m.counts.node_actors;
  }
  adopt(m, std::move(r.next), std::move(r.rt), r.g, actor_by_id, report_by_id);
  bool paused = false;
  for (const auto& rep : m.board->snapshot()) paused |= rep.paused;
  m.any_paused = paused;
  spdlog::info("strategy {} removed: {} nodes stopped, {} shared nodes kept", strategy,
               r.answer["removed"].size(), r.answer["kept"].size());
  return r.answer;
}

json apply_restart(engine::impl& m, const std::string& node, bool fresh) {
  auto it = m.graph->by_name.find(node);
  if (it == m.graph->by_name.end()) throw admin_error("no node named \"" + node + "\"");
  ask(*m.sys, m.node_actors[it->second], caf::make_message(restart_atom::value, fresh));
  return {{"restarted", node}, {"fresh", fresh}};
}

std::string arg_string(const Control& c, const char* key) {
  auto it = c.args.find(key);
  if (it == c.args.end() || !it->second.is_string())
    throw admin_error(std::string("control record ") + c.kind + " without " + key);
  return it->second.as_string();
}

json apply_quiet(engine::impl& m, const Control& c) {
  if (m.placement && (c.kind == "submit" || c.kind == "remove"))
    throw admin_error(
        "the nodes are placed on several processes ([cluster] members), and a "
        "graph change is not placed yet: start the processes with members = 1");
  if (c.kind == "submit") {
    value_map seqs;
    if (auto it = c.args.find("seq_after"); it != c.args.end() && it->second.is_map())
      seqs = it->second.as_map();
    return apply_submit(m, arg_string(c, "text"), seqs);
  }
  if (c.kind == "remove") return apply_remove(m, arg_string(c, "strategy"));
  if (c.kind == "restart") return apply_restart(m, arg_string(c, "node"), control_flag(c, "fresh"));
  return {};  // time_mode and others: nothing to apply to the graph
}

}  // namespace

std::string strategy_name_of(const std::string& text) {
  std::string name;
  try {
    load_strategy_text(text, "submitted strategy", &name);
  } catch (const config_error& e) {
    throw admin_error(e.what());
  }
  return name;
}

json engine_dry_submit(engine::impl& m, const std::string& text) {
  return plan_submit(m, text).answer;
}

json engine_dry_remove(engine::impl& m, const std::string& strategy) {
  return plan_remove(m, strategy).answer;
}

json engine::impl::change(const Control& c) {
  if (!sys) throw admin_error("the engine is not running");
  if (any_paused) throw admin_error("a node is paused: resume it before changing the graph");
  if (standby)
    throw admin_error("this engine is a standby (it follows engine " + cfg.cluster.engine_id +
                      "'s journal): change the graph on the active engine");
  if (placement && (c.kind == "submit" || c.kind == "remove"))
    throw admin_error("the nodes of engine " + cfg.cluster.engine_id + " are placed on " +
                      std::to_string(placement->members.size()) +
                      " processes ([cluster] members): changing the graph while they run is not "
                      "built yet; change the config and restart them");
  return quiesce([&] {
    Control rec = c;
    if (c.kind == "submit") {
      // The seqs new nodes continue after are decided now and journaled: a replay or a
      // restart must not take them from a store that has moved on since.
      submit_plan s = plan_submit(*this, arg_string(c, "text"));
      value_map seqs;
      for (std::size_t i : s.fresh) seqs[s.g->nodes[i].id] = Value(seq_after(s.g->nodes[i].id));
      rec.args["strategy"] = Value(s.name);
      rec.args["seq_after"] = Value(std::move(seqs));
    } else if (c.kind == "remove") {
      plan_remove(*this, arg_string(c, "strategy"));
    } else if (c.kind == "restart") {
      if (!graph->by_name.count(arg_string(c, "node")))
        throw admin_error("no node named \"" + arg_string(c, "node") + "\"");
    }
    if (writer && live()) writer->append_journal_control(encode_control(rec));
    json answer = apply_quiet(*this, rec);
    record_graph();
    return answer;
  });
}

json engine::impl::apply_control(const Control& c) {
  std::lock_guard lock(graph_mu);
  flow->wait_idle();
  json answer = apply_quiet(*this, c);
  record_graph();
  return answer;
}

}  // namespace shoal
