#include "runtime/graph/plan.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "actors/core/duration.hpp"
#include "actors/core/kind_registry.hpp"
#include "actors/core/params.hpp"
#include "runtime/graph/detail/mirror_check.hpp"
#include "runtime/graph/node_id.hpp"

namespace shoal {
namespace {

using detail::join;

std::string where(const source_loc& l) { return l.file + ":" + std::to_string(l.line); }

// One declared vertex before dedup: a source stream or a [[node]].
struct vertex {
  std::string name;
  const node_decl* decl = nullptr;  // null for source streams
  std::optional<std::size_t> source;
  std::optional<stream_decl> stream;
  std::vector<std::pair<std::string, std::size_t>> inputs;  // (port, vertex), kind port order
  const kind_info* kind = nullptr;
  value_map params;
  std::int64_t interval_ns = 0;
  std::size_t period = 1;
  std::string id;
  std::size_t pass = 0, warmup = 0;
};

class planner {
 public:
  explicit planner(const config& cfg) : cfg_(cfg) {}

  plan run() {
    declare();
    resolve_inputs();
    auto order = topological_order();
    for (std::size_t v : order) settle(v);
    return merge(order);
  }

 private:
  void add_name(const std::string& name, const source_loc& loc, std::size_t v) {
    auto [it, fresh] = index_.emplace(name, v);
    if (!fresh) {
      const vertex& first = vs_[it->second];
      const source_loc first_loc = first.decl ? first.decl->loc : cfg_.sources[*first.source].loc;
      throw config_error(
          loc, "name",
          "duplicate name \"" + name + "\" (first declared at " + where(first_loc) + ")");
    }
  }

  void declare() {
    for (std::size_t s = 0; s < cfg_.sources.size(); ++s) {
      const auto& src = cfg_.sources[s];
      for (const auto& st : src.streams) {
        vertex v;
        v.name = src.name + "." + st.name;
        v.source = s;
        v.stream = st;
        v.interval_ns = src.interval_ns;
        vs_.push_back(std::move(v));
        add_name(vs_.back().name, src.loc, vs_.size() - 1);
      }
    }
    for (const auto& n : cfg_.nodes) {
      vertex v;
      v.name = n.name;
      v.decl = &n;
      v.kind = find_kind(n.kind);
      if (!v.kind)
        throw config_error(
            n.loc, "node." + n.name + ".kind",
            "unknown kind \"" + n.kind + "\" (known: " + join(kind_names(), ", ") + ")");
      try {
        v.params = v.kind->normalize(n.params);
      } catch (const param_error& e) {
        throw config_error(n.params_loc, "node." + n.name + ".params." + e.key(), e.what());
      }
      vs_.push_back(std::move(v));
      add_name(n.name, n.loc, vs_.size() - 1);
    }
  }

  std::size_t lookup(const node_decl& n, const input_decl& in) const {
    if (!in.upstream.empty()) {
      if (!n.strategy.empty())
        if (auto it = index_.find(n.strategy + "." + in.upstream); it != index_.end())
          return it->second;
      if (auto it = index_.find(in.upstream); it != index_.end()) return it->second;
      throw config_error(
          in.loc, "node." + n.name + ".inputs." + in.port,
          "unknown upstream \"" + in.upstream + "\" (no source stream or node has that name)");
    }
    // Candidates from the tag index, in declaration order (the order the error lists them).
    std::vector<std::size_t> candidates;
    for (const auto& t : in.tags)
      if (auto it = by_tag_.find(t); it != by_tag_.end())
        candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::vector<std::string> matched;
    std::size_t found = 0;
    for (std::size_t i : candidates) {
      const vertex& v = vs_[i];
      if (v.name == n.name) continue;
      const auto& tags = v.decl->tags;
      auto has = [&](const std::string& t) { return std::count(tags.begin(), tags.end(), t) > 0; };
      if (!in.match_all || std::all_of(in.tags.begin(), in.tags.end(), has)) {
        matched.push_back(v.name);
        found = i;
      }
    }
    if (matched.size() != 1)
      throw config_error(in.loc, "node." + n.name + ".inputs." + in.port,
                         "tag query [" + join(in.tags, ", ") + "] matched " +
                             std::to_string(matched.size()) + " nodes" +
                             (matched.empty() ? "" : " (" + join(matched, ", ") + ")") +
                             "; a port takes exactly one upstream");
    return found;
  }

  void resolve_inputs() {
    for (std::size_t i = 0; i < vs_.size(); ++i)
      if (vs_[i].decl)
        for (const auto& t : vs_[i].decl->tags) {
          auto& nodes = by_tag_[t];
          if (nodes.empty() || nodes.back() != i) nodes.push_back(i);
        }
    for (auto& v : vs_) {
      if (!v.decl) continue;
      const node_decl& n = *v.decl;
      std::map<std::string, const input_decl*> given;
      for (const auto& in : n.inputs) given[in.port] = &in;
      for (const auto& port : v.kind->ports) {
        auto it = given.find(port);
        if (it == given.end())
          throw config_error(n.loc, "node." + n.name + ".inputs",
                             "kind " + n.kind + " needs input port \"" + port + "\"");
        v.inputs.emplace_back(port, lookup(n, *it->second));
        given.erase(it);
      }
      if (!given.empty())
        throw config_error(given.begin()->second->loc,
                           "node." + n.name + ".inputs." + given.begin()->first,
                           "kind " + n.kind + " has no input port \"" + given.begin()->first +
                               "\" (ports: " + join(v.kind->ports, ", ") + ")");
    }
  }

  std::vector<std::size_t> topological_order() {
    enum { white, grey, black };
    std::vector<int> color(vs_.size(), white);
    std::vector<std::size_t> order, stack;
    std::function<void(std::size_t)> visit = [&](std::size_t v) {
      color[v] = grey;
      stack.push_back(v);
      for (const auto& [port, up] : vs_[v].inputs) {
        if (color[up] == grey) {
          auto from = std::find(stack.begin(), stack.end(), up);
          std::vector<std::string> cycle;
          for (auto it = from; it != stack.end(); ++it) cycle.push_back(vs_[*it].name);
          cycle.push_back(vs_[up].name);
          throw config_error(vs_[up].decl->loc, "node." + vs_[up].name + ".inputs",
                             "cycle: " + join(cycle, " -> "));
        }
        if (color[up] == white) visit(up);
      }
      stack.pop_back();
      color[v] = black;
      order.push_back(v);
    };
    for (std::size_t v = 0; v < vs_.size(); ++v)
      if (color[v] == white) visit(v);
    return order;
  }

  // Interval, period, NodeID, pass and warm-up of one vertex, its inputs already settled.
  void settle(std::size_t idx) {
    vertex& v = vs_[idx];
    node_identity ident;
    if (!v.decl) {
      const auto& src = cfg_.sources[*v.source];
      value_map params = src.params;
      params["stream"] = Value(v.stream->name);
      params["schema"] = Value(v.stream->schema);
      params["one_per_bucket"] = Value(v.stream->one_per_bucket);
      params["key"] = v.stream->key ? Value(*v.stream->key) : Value();
      params["time"] = Value(to_string(v.stream->time));
      // cluster_node: the node it carries, and none of the source's other streams' nodes.
      if (!v.stream->node.empty()) params["node"] = Value(v.stream->node);
      ident = {std::string("source.") + to_string(src.kind),
               1,
               std::move(params),
               v.interval_ns,
               1,
               on_missing::skip,
               {}};
      v.id = compute_node_id(ident);
      return;
    }
    const node_decl& n = *v.decl;
    const std::string key = "node." + n.name;
    std::set<std::int64_t> in_intervals;
    for (const auto& [port, up] : v.inputs) in_intervals.insert(vs_[up].interval_ns);
    if (n.interval_ns) {
      v.interval_ns = *n.interval_ns;
      for (auto iv : in_intervals)
        if (v.interval_ns % iv != 0)
          throw config_error(n.loc, key + ".interval",
                             "interval " + format_duration_ns(v.interval_ns) +
                                 " is not a multiple of its input interval " +
                                 format_duration_ns(iv));
    } else if (in_intervals.size() == 1) {
      v.interval_ns = *in_intervals.begin();
    } else {
      std::vector<std::string> ivs;
      for (auto iv : in_intervals) ivs.push_back(format_duration_ns(iv));
      throw config_error(n.loc, key + ".interval",
                         "inputs have different intervals (" + join(ivs, ", ") + "); set interval");
    }
    const std::size_t need = v.kind->min_period(v.params);
    v.period = n.period ? static_cast<std::size_t>(*n.period) : need;
    if (v.period < need)
      throw config_error(n.loc, key + ".period",
                         "period " + std::to_string(v.period) + " is less than the " +
                             std::to_string(need) + " that " + n.kind + " needs");
    ident = {n.kind,
             v.kind->version,
             v.params,
             v.interval_ns,
             static_cast<std::int64_t>(v.period),
             n.on_missing,
             {}};
    std::size_t up_warm = 0, up_pass = 0;
    for (const auto& [port, up] : v.inputs) {
      ident.inputs.emplace_back(port, vs_[up].id);
      up_warm = std::max(up_warm, vs_[up].warmup);
      up_pass = std::max(up_pass, vs_[up].pass);
    }
    v.id = compute_node_id(ident);
    v.pass = up_pass + 1;
    v.warmup = up_warm + v.period - 1;
  }

  plan merge(const std::vector<std::size_t>& order) {
    plan p;
    std::map<std::string, std::size_t> by_id;
    std::vector<std::size_t> slot_of(vs_.size());
    // Stable output order: by pass, then by first name.
    std::vector<std::size_t> sorted = order;
    std::stable_sort(sorted.begin(), sorted.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(vs_[a].pass, vs_[a].name) < std::tie(vs_[b].pass, vs_[b].name);
    });
    for (std::size_t idx : sorted) {
      const vertex& v = vs_[idx];
      if (v.decl) ++p.declared;
      auto [it, fresh] = by_id.emplace(v.id, p.nodes.size());
      if (fresh) {
        plan_node n;
        n.id = v.id;
        n.kind = v.decl ? v.decl->kind : "identity";
        n.kind_version = v.kind ? v.kind->version : 1;
        n.params = v.params;
        n.interval_ns = v.interval_ns;
        n.period = v.period;
        n.on_missing = v.decl ? v.decl->on_missing : on_missing::skip;
        for (const auto& [port, up] : v.inputs) n.inputs.push_back({port, slot_of[up]});
        n.pass = v.pass;
        n.warmup = v.warmup;
        n.source = v.source;
        n.stream = v.stream;
        p.nodes.push_back(std::move(n));
        if (v.decl) ++p.distinct;
      }
      plan_node& n = p.nodes[it->second];
      slot_of[idx] = it->second;
      n.names.push_back(v.name);
      if (v.decl) {
        n.late_side |= v.decl->late_side;
        // Declared more than once: an allowance holds only when every declaration makes it
        // (one that leaves it unset keeps the kind's default).
        const quality_policy& q = v.decl->quality;
        if (n.names.size() == 1) {
          n.quality = q;
        } else {
          auto both = [](auto& a, const auto& b, auto merge) {
            a = a && b ? std::make_optional(merge(*a, *b)) : std::nullopt;
          };
          both(n.quality.allow_flatline, q.allow_flatline, std::logical_and<bool>());
          both(n.quality.allow_empty, q.allow_empty, std::logical_and<bool>());
          both(n.quality.max_null_pct, q.max_null_pct,
               [](double x, double y) { return std::min(x, y); });
        }
        n.strategies.push_back(v.decl->strategy);
        for (const auto& t : v.decl->tags) n.tags.push_back(t);
      }
    }
    std::string ids;
    for (auto& n : p.nodes) {
      std::sort(n.names.begin(), n.names.end());
      std::sort(n.strategies.begin(), n.strategies.end());
      n.strategies.erase(std::unique(n.strategies.begin(), n.strategies.end()), n.strategies.end());
      std::sort(n.tags.begin(), n.tags.end());
      n.tags.erase(std::unique(n.tags.begin(), n.tags.end()), n.tags.end());
    }
    for (std::size_t i = 0; i < p.nodes.size(); ++i)
      for (const auto& name : p.nodes[i].names) p.by_name.emplace(name, i);
    // A late side output publishes on <name>.late: that topic must be no node's.
    for (std::size_t idx : sorted) {
      const vertex& v = vs_[idx];
      if (v.decl && v.decl->late_side && p.by_name.count(v.name + ".late"))
        throw config_error(v.decl->loc, "node." + v.name + ".late",
                           "its side output topic \"" + v.name +
                               ".late\" is the name of another node; rename one of them");
    }
    for (const auto& [id, _] : by_id) ids += id;
    p.graph_hash = sha256_hex(ids);
    return p;
  }

  const config& cfg_;
  std::vector<vertex> vs_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::vector<std::size_t>> by_tag_;  // tag → declared nodes carrying it
};

}  // namespace

namespace detail {

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : sep) + x;
  return out;
}

plan build_plan_in_chain(const config& cfg, const mirror_chain& chain) {
  plan p = planner(cfg).run();
  if (!cfg.engine.mirrors.empty()) check_mirror(cfg, p, chain);
  return p;
}

}  // namespace detail

plan build_plan(const config& cfg) { return detail::build_plan_in_chain(cfg, {}); }

std::vector<bool> with_upstreams(const plan& g, std::vector<bool> nodes) {
  for (std::size_t i = g.nodes.size(); i-- > 0;) {  // topological order: downstream last
    if (!nodes[i]) continue;
    for (const auto& in : g.nodes[i].inputs) nodes[in.upstream] = true;
  }
  return nodes;
}

}  // namespace shoal
