#include "runtime/cluster/node_placement.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

namespace shoal {

namespace {

// What computing node n costs on its own (a stream: nothing, every process has it).
double own_cost(const placement_node& n) { return n.stream ? 0.0 : n.cost; }

// Walks node i and everything upstream of it, each node once, with a mark reused from walk to
// walk (O(closure), not O(n), per walk: place_joining walks once per node and member). f(k)
// says whether to go on upstream of k.
class upstream_walk {
 public:
  explicit upstream_walk(const std::vector<placement_node>& nodes)
      : nodes_(nodes), stamp_(nodes.size(), 0) {}

  template <class F>
  void operator()(std::size_t i, F&& f) {
    ++walk_;
    todo_.assign(1, i);
    while (!todo_.empty()) {
      const std::size_t k = todo_.back();
      todo_.pop_back();
      if (stamp_[k] == walk_) continue;
      stamp_[k] = walk_;
      if (!f(k)) continue;
      for (std::size_t u : nodes_[k].upstream) todo_.push_back(u);
    }
  }

 private:
  const std::vector<placement_node>& nodes_;
  std::vector<std::size_t> stamp_, todo_;
  std::size_t walk_ = 0;
};

// Marks node i and everything upstream of it (a marked node's upstream is marked already).
void mark_upstream(upstream_walk& walk, std::size_t i, std::vector<bool>& m) {
  walk(i, [&](std::size_t k) {
    if (m[k]) return false;
    m[k] = true;
    return true;
  });
}

// What marking node i adds to `m`: the cost of the nodes it marks that were not marked.
double added_cost(const std::vector<placement_node>& nodes, upstream_walk& walk, std::size_t i,
                  const std::vector<bool>& m) {
  double added = 0;
  walk(i, [&](std::size_t k) {
    if (m[k]) return false;
    added += own_cost(nodes[k]);
    return true;
  });
  return added;
}

struct member_load {
  std::string name;
  std::vector<bool> computed;
  double cost = 0;
  std::size_t owned = 0;
};

}  // namespace

node_placement place_nodes(const std::vector<placement_node>& nodes,
                           std::vector<std::string> members, const node_placement& previous,
                           const std::vector<std::string>& closed) {
  if (members.empty()) throw std::invalid_argument("place_nodes: no member to place nodes on");
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<member_load> loads;
  for (const auto& name : members) loads.push_back({name, std::vector<bool>(nodes.size()), 0, 0});
  upstream_walk walk(nodes);
  auto place = [&](std::size_t i, member_load& m, node_placement& out) {
    // added_cost and mark_upstream in one walk (summed apart first, as added_cost does, so the
    // sums are the same bits).
    double added = 0;
    walk(i, [&](std::size_t k) {
      if (m.computed[k]) return false;
      m.computed[k] = true;
      added += own_cost(nodes[k]);
      return true;
    });
    m.cost += added;
    ++m.owned;
    out[nodes[i].id] = m.name;
  };
  node_placement out;
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].stream) continue;
    const auto it = previous.find(nodes[i].id);
    const auto kept = it == previous.end()
                          ? loads.end()
                          : std::find_if(loads.begin(), loads.end(), [&](const member_load& m) {
                              return m.name == it->second;
                            });
    if (kept != loads.end()) {
      place(i, *kept, out);
    } else {
      open.push_back(i);
    }
  }
  // Costliest first, counting what each needs upstream; the NodeID breaks ties.
  std::vector<double> closure(nodes.size());
  const std::vector<bool> none(nodes.size());
  for (std::size_t i : open) closure[i] = added_cost(nodes, walk, i, none);
  std::stable_sort(open.begin(), open.end(), [&](std::size_t a, std::size_t b) {
    if (closure[a] != closure[b]) return closure[a] > closure[b];
    return nodes[a].id < nodes[b].id;
  });
  for (std::size_t i : open) {
    member_load* best = nullptr;
    double best_cost = 0;
    for (auto& m : loads) {
      if (std::find(closed.begin(), closed.end(), m.name) != closed.end()) continue;
      const double c = m.cost + added_cost(nodes, walk, i, m.computed);
      if (!best || c < best_cost || (c == best_cost && m.owned < best->owned)) {
        best = &m;
        best_cost = c;
      }
    }
    if (!best)
      throw std::runtime_error("node " + nodes[i].id +
                               " has no process to go to: its last one is gone, and the others "
                               "take no new nodes");
    place(i, *best, out);
  }
  return out;
}

placement_record place_after_loss(const std::vector<placement_node>& nodes,
                                  const placement_record& r, const std::vector<std::string>& lost,
                                  const std::map<std::string, member_published>& published,
                                  const std::vector<std::string>& closed) {
  auto gone = [&](const std::string& m) {
    return std::find(lost.begin(), lost.end(), m) != lost.end();
  };
  placement_record next = r;
  next.members.erase(std::remove_if(next.members.begin(), next.members.end(), gone),
                     next.members.end());
  if (next.members.empty()) throw std::runtime_error("no process of the placement is left");
  node_placement kept;
  for (const auto& [id, m] : r.nodes)
    if (!gone(m)) kept[id] = m;
  next.nodes = place_nodes(nodes, next.members, kept, closed);
  record_hand_overs(next, r, published);
  return next;
}

placement_record place_joining(const std::vector<placement_node>& nodes, const placement_record& r,
                               const std::string& joiner,
                               const std::map<std::string, member_published>& published) {
  placement_record next = r;
  if (std::find(next.members.begin(), next.members.end(), joiner) == next.members.end())
    next.members.push_back(joiner);
  std::map<std::string, std::vector<std::size_t>> owned;  // by member: its nodes' indexes
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].stream) continue;
    if (const auto it = r.nodes.find(nodes[i].id); it != r.nodes.end() && it->second != joiner)
      owned[it->second].push_back(i);
  }
  upstream_walk closure(nodes);
  std::vector<double> alone(nodes.size());  // each node's cost with its upstream
  for (const auto& [m, mine] : owned)
    for (std::size_t i : mine)
      closure(i, [&](std::size_t k) {
        alone[i] += own_cost(nodes[k]);
        return true;
      });
  // What a member computes: how many of its nodes need each node (0: not computed).
  struct giver {
    std::string name;
    std::vector<std::size_t> refs;
    double load = 0;
  };
  std::vector<giver> givers;
  for (const auto& [m, mine] : owned) {
    giver g{m, std::vector<std::size_t>(nodes.size(), 0), 0};
    for (std::size_t i : mine) {
      closure(i, [&](std::size_t k) {
        ++g.refs[k];
        return true;
      });
    }
    for (std::size_t k = 0; k < nodes.size(); ++k)
      if (g.refs[k] > 0) g.load += own_cost(nodes[k]);
    givers.push_back(std::move(g));
  }
  // The costliest member gives first; the name breaks ties.
  std::sort(givers.begin(), givers.end(), [](const giver& a, const giver& b) {
    return a.load != b.load ? a.load > b.load : a.name < b.name;
  });
  std::vector<bool> joined(nodes.size());
  double joined_cost = 0;
  for (auto& g : givers) {
    std::vector<std::size_t> mine = owned[g.name];
    // Its costliest nodes (with what is upstream of them) first; the NodeID breaks ties.
    std::stable_sort(mine.begin(), mine.end(), [&](std::size_t a, std::size_t b) {
      return alone[a] != alone[b] ? alone[a] > alone[b] : nodes[a].id < nodes[b].id;
    });
    std::size_t keeps = mine.size();
    for (std::size_t i : mine) {
      if (keeps <= 1) break;  // every member keeps a node
      double freed = 0, add = 0;
      closure(i, [&](std::size_t k) {
        if (g.refs[k] == 1) freed += own_cost(nodes[k]);
        if (!joined[k]) add += own_cost(nodes[k]);
        return true;
      });
      // Only while the joiner stays no costlier than the member giving.
      if (joined_cost + add > g.load - freed) continue;
      next.nodes[nodes[i].id] = joiner;
      closure(i, [&](std::size_t k) {
        --g.refs[k];
        joined[k] = true;
        return true;
      });
      joined_cost += add;
      g.load -= freed;
      --keeps;
    }
  }
  record_hand_overs(next, r, published);
  return next;
}

std::optional<rebalance_move> place_rebalance(const std::vector<placement_node>& nodes,
                                              const placement_record& r,
                                              const std::vector<std::string>& receivers,
                                              double above, double min_gain,
                                              const std::set<std::string>& fixed) {
  std::map<std::string, std::vector<std::size_t>> owned;  // by member: its nodes' indexes
  for (const auto& m : r.members) owned[m];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].stream) continue;
    if (const auto it = r.nodes.find(nodes[i].id); it != r.nodes.end() && owned.count(it->second))
      owned[it->second].push_back(i);
  }
  upstream_walk closure(nodes);
  // What a member computes: how many of its nodes need each node (0: not computed).
  std::map<std::string, std::vector<std::size_t>> refs;
  std::map<std::string, double> load;
  for (const auto& [m, mine] : owned) {
    auto& c = refs[m];
    c.assign(nodes.size(), 0);
    for (std::size_t i : mine)
      closure(i, [&](std::size_t k) {
        ++c[k];
        return true;
      });
    double sum = 0;
    for (std::size_t k = 0; k < nodes.size(); ++k)
      if (c[k] > 0) sum += own_cost(nodes[k]);
    load[m] = sum;
  }
  std::string hi;
  for (const auto& [m, l] : load)
    if (hi.empty() || l > load[hi]) hi = m;  // by name on ties: the map's order
  if (hi.empty() || owned[hi].size() < 2 || load[hi] <= 0) return std::nullopt;
  std::optional<rebalance_move> best;
  for (const auto& entry : owned) {
    const std::string& to = entry.first;  // (a structured binding: no lambda of clang 14 takes it)
    if (to == hi || std::find(receivers.begin(), receivers.end(), to) == receivers.end() ||
        load[hi] <= above * load[to])
      continue;
    for (std::size_t i : owned[hi]) {
      if (fixed.count(nodes[i].id)) continue;
      double freed = 0, add = 0;
      closure(i, [&](std::size_t k) {
        if (refs[hi][k] == 1) freed += own_cost(nodes[k]);
        if (refs[to][k] == 0) add += own_cost(nodes[k]);
        return true;
      });
      rebalance_move m{nodes[i].id, hi,       to,
                       load[hi],    load[to], std::max(load[hi] - freed, load[to] + add)};
      auto key = [&](const rebalance_move& x) {
        return std::make_tuple(x.after, x.to_cost, x.id, x.to);
      };
      if (!best || key(m) < key(*best)) best = m;
    }
  }
  if (!best || best->after > load[hi] * (1 - min_gain)) return std::nullopt;
  return best;
}

void note_published(std::map<std::string, member_published>& reports, const std::string& member,
                    const member_published& said) {
  auto& into = reports[member];
  for (const auto& [id, seq] : said) into[id] = std::max(into[id], seq);
}

std::map<std::string, std::uint64_t> hand_over(
    const placement_record& previous, const node_placement& next,
    const std::map<std::string, member_published>& reported) {
  std::map<std::string, std::uint64_t> handed;
  for (const auto& [id, was] : previous.nodes) {
    const auto now = next.find(id);
    if (now == next.end()) continue;
    // Moved to it before: it may have died before saying what it published of it, and a report
    // below that (it was still rebuilding) does not take it back.
    const auto h = previous.handed.find(id);
    if (now->second == was) {
      if (h != previous.handed.end()) handed[id] = h->second;  // its heir may not have read it
      continue;
    }
    std::uint64_t seq = h != previous.handed.end() ? h->second : 0;
    if (auto m = reported.find(was); m != reported.end())
      if (auto s = m->second.find(id); s != m->second.end()) seq = std::max(seq, s->second);
    handed[id] = seq;
  }
  return handed;
}

std::map<std::string, std::string> moved_from(const placement_record& previous,
                                              const node_placement& next) {
  std::map<std::string, std::string> from;
  for (const auto& [id, was] : previous.nodes) {
    const auto now = next.find(id);
    if (now == next.end()) continue;
    if (now->second != was) {
      from[id] = was;
    } else if (auto f = previous.handed_from.find(id); f != previous.handed_from.end()) {
      from[id] = f->second;
    }
  }
  return from;
}

void record_hand_overs(placement_record& next, const placement_record& previous,
                       const std::map<std::string, member_published>& reported) {
  next.handed = hand_over(previous, next.nodes, reported);
  next.handed_from = moved_from(previous, next.nodes);
}

std::vector<bool> computed_by(const std::vector<placement_node>& nodes, const node_placement& p,
                              const std::string& member) {
  std::vector<bool> m(nodes.size());
  upstream_walk walk(nodes);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].stream) {
      m[i] = true;
    } else if (auto it = p.find(nodes[i].id); it != p.end() && it->second == member) {
      mark_upstream(walk, i, m);
    }
  }
  return m;
}

std::string encode_placement(const placement_record& r) {
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [id, member] : r.nodes) nodes[id] = member;
  nlohmann::json j{
      {"holder", r.holder}, {"graph_hash", r.graph_hash}, {"members", r.members}, {"nodes", nodes}};
  if (!r.handed.empty()) j["handed"] = r.handed;
  if (!r.handed_from.empty()) j["handed_from"] = r.handed_from;
  std::string without = j.dump();
  if (r.costs.empty()) return without;
  j["costs"] = r.costs;
  std::string with = j.dump();
  // A key-value entry must fit a NATS message (max_payload, 1 MB by default): the costs are what
  // goes first when a very large graph would not fit (then every node counts alike).
  return with.size() <= max_placement_with_costs_bytes ? with : without;
}

node_costs costs_of(const nlohmann::json& j) {
  node_costs out;
  if (!j.is_object()) return out;
  for (const auto& [id, v] : j.items())
    if (v.is_number() && std::isfinite(v.get<double>())) out[id] = v.get<double>();
  return out;
}

placement_record decode_placement(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::runtime_error("the placement is not a JSON object");
  placement_record r;
  try {
    r.holder = j.at("holder").get<std::string>();
    r.graph_hash = j.at("graph_hash").get<std::string>();
    r.members = j.at("members").get<std::vector<std::string>>();
    for (const auto& [id, member] : j.at("nodes").items()) r.nodes[id] = member.get<std::string>();
    if (j.contains("handed")) r.handed = j.at("handed").get<std::map<std::string, std::uint64_t>>();
    // A record of an earlier version has none, a damaged entry is left out: the heir of that
    // node rebuilds it from its journal, the placement stands.
    if (const auto f = j.find("handed_from"); f != j.end() && f->is_object())
      for (const auto& [id, member] : f->items())
        if (member.is_string()) r.handed_from[id] = member.get<std::string>();
    if (const auto c = j.find("costs"); c != j.end() && c->is_object()) r.costs = costs_of(*c);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("the placement lacks a field or has a wrong one: ") +
                             e.what());
  }
  return r;
}

}  // namespace shoal
