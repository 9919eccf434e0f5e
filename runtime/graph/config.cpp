// Loading a config: the main file's [[source]]s and [[node]]s and the strategy files it lists
// ([engine] is read in engine_section.cpp).
#include "runtime/graph/config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "runtime/graph/detail/cluster_section.hpp"
#include "runtime/graph/detail/engine_section.hpp"
#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/graph/detail/toml_file.hpp"
#include "runtime/sources/source_kinds.hpp"

namespace shoal {

config_error::config_error(const source_loc& loc, const std::string& key,
                           const std::string& problem)
    : std::runtime_error(loc.file + ":" + std::to_string(loc.line) + ": " +
                         (key.empty() ? "" : key + ": ") + problem),
      loc_(loc) {}

namespace {

using detail::table_reader;
using detail::toml_file;

Value to_value(const toml::value& v, const toml_file& doc, const std::string& key) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return Value(v.as_boolean());
    case toml::value_t::integer:
      return Value(static_cast<std::int64_t>(v.as_integer()));
    case toml::value_t::floating:
      return Value(v.as_floating());
    case toml::value_t::string:
      return Value(v.as_string().str);
    case toml::value_t::array: {
      value_list l;
      for (const auto& x : v.as_array()) l.push_back(to_value(x, doc, key));
      return Value(std::move(l));
    }
    case toml::value_t::table: {
      value_map m;
      for (const auto& [k, x] : v.as_table()) m.emplace(k, to_value(x, doc, key + "." + k));
      return Value(std::move(m));
    }
    default:
      throw config_error(doc.loc(v), key, "dates and times are not supported here");
  }
}

value_map params_of(table_reader& r, const std::string& key) {
  const toml::value* v = r.get(key);
  if (!v) return {};
  if (!v->is_table()) r.fail(key, "must be a table");
  return to_value(*v, r.doc(), r.path(key)).as_map();
}

source_decl parse_source(const toml::value& t, const toml_file& doc) {
  table_reader r(t, doc, "source");
  source_decl s;
  s.loc = r.loc();
  s.name = r.required_str("name");
  const std::string kind = r.required_str("kind");
  const source_kind_info* info = find_source_kind(kind);
  if (!info)
    r.fail("kind", "unknown source kind \"" + kind + "\" (" + source_kind_summaries() + ")");
  s.kind = info->kind;
  if (s.name.find('.') != std::string::npos) r.fail("name", "must not contain '.'");
  if (auto d = r.duration("interval")) s.interval_ns = *d;
  // A stream quiet this long gets a watermark; never shorter than a bucket by default, so a
  // bucket is not closed while its own events may still come.
  s.idle_timeout_ns = std::max<std::int64_t>(2'000'000'000, s.interval_ns);
  if (auto d = r.duration("idle_timeout")) s.idle_timeout_ns = *d;
  info->parse(r, s);
  std::set<std::string> names;
  for (const auto& st : s.streams)
    if (!names.insert(st.name).second) r.fail("stream", "duplicate stream \"" + st.name + "\"");
  r.finish();
  return s;
}

input_decl parse_input(const std::string& port, const toml::value& v, const toml_file& doc,
                       const std::string& node) {
  input_decl in;
  in.port = port;
  in.loc = doc.loc(v);
  const std::string key = "node." + node + ".inputs." + port;
  if (v.is_string()) {
    in.upstream = v.as_string().str;
    if (in.upstream.empty()) throw config_error(in.loc, key, "must name an upstream");
    return in;
  }
  if (!v.is_table())
    throw config_error(in.loc, key, "must be an upstream name or a tag query {tags = [...]}");
  table_reader r(v, doc, key);
  in.tags = r.str_list("tags");
  if (in.tags.empty()) r.fail("tags", "a tag query needs at least one tag");
  auto match = r.str("match").value_or("any");
  if (match != "any" && match != "all") r.fail("match", "must be \"any\" or \"all\"");
  in.match_all = match == "all";
  r.finish();
  return in;
}

node_decl parse_node(const toml::value& t, const toml_file& doc, const std::string& strategy) {
  table_reader r(t, doc, "node");
  node_decl n;
  n.loc = r.loc();
  n.strategy = strategy;
  const std::string local = r.required_str("name");
  if (local.find('.') != std::string::npos) r.fail("name", "must not contain '.'");
  n.name = strategy.empty() ? local : strategy + "." + local;
  table_reader named(t, doc, "node." + n.name);
  n.kind = named.required_str("kind");
  n.params_loc = named.loc("params");
  n.params = params_of(named, "params");
  if (const toml::value* in = named.get("inputs")) {
    if (!in->is_table()) named.fail("inputs", "must be a table {port = \"upstream\"}");
    std::vector<std::string> ports;
    for (const auto& [port, _] : in->as_table()) ports.push_back(port);
    std::sort(ports.begin(), ports.end());
    for (const auto& port : ports)
      n.inputs.push_back(parse_input(port, in->as_table().at(port), doc, n.name));
  }
  n.interval_ns = named.duration("interval");
  if (auto p = named.integer("period")) {
    if (*p < 1 || *p > 1'000'000) named.fail("period", "must be in [1, 1000000]");
    n.period = *p;
  }
  if (auto m = named.str("on_missing")) {
    auto policy = parse_on_missing(*m);
    if (!policy) named.fail("on_missing", "must be " + on_missing_choices());
    n.on_missing = *policy;
  }
  if (auto l = named.str("late")) {
    if (*l != "drop" && *l != "side")
      named.fail("late",
                 "must be \"drop\" (count late inputs) or \"side\" (also publish them "
                 "on <node>.late)");
    n.late_side = *l == "side";
  }
  if (const toml::value* q = named.get("quality")) {
    if (!q->is_table())
      named.fail("quality", "must be a table { max_null_pct = 50, allow_flatline = true, ... }");
    table_reader qr(*q, doc, "node." + n.name + ".quality");
    if (const toml::value* pct = qr.get("max_null_pct")) {
      if (!pct->is_integer() && !pct->is_floating())
        qr.fail("max_null_pct", "must be a number in [0, 100]");
      const double x =
          pct->is_integer() ? static_cast<double>(pct->as_integer()) : pct->as_floating();
      if (!(x >= 0 && x <= 100)) qr.fail("max_null_pct", "must be a number in [0, 100]");
      n.quality.max_null_pct = x;
    }
    n.quality.allow_flatline = qr.boolean("allow_flatline");
    n.quality.allow_empty = qr.boolean("allow_empty");
    qr.finish();
  }
  n.tags = named.str_list("tags");
  n.description = named.str("description").value_or("");
  named.get("name");
  named.finish();
  return n;
}

std::vector<node_decl> parse_nodes(table_reader& r, const std::string& strategy) {
  std::vector<node_decl> out;
  if (const auto* nodes = r.tables("node"))
    for (const auto& t : *nodes) out.push_back(parse_node(t, r.doc(), strategy));
  return out;
}

}  // namespace

namespace {

std::vector<node_decl> parse_strategy(const toml_file& doc, std::string* strategy_name) {
  const std::string& path = doc.path();
  table_reader r(doc.root(), doc, "");
  const toml::value* s = r.get("strategy");
  if (!s || !s->is_table())
    throw config_error({path, 1}, "strategy",
                       "a strategy file starts with [strategy] name = \"...\"");
  table_reader sr(*s, doc, "strategy");
  std::string name = sr.required_str("name");
  if (name.find('.') != std::string::npos) sr.fail("name", "must not contain '.'");
  sr.str("description");
  sr.finish();
  auto nodes = parse_nodes(r, name);
  r.finish();
  if (strategy_name) *strategy_name = name;
  return nodes;
}

}  // namespace

std::vector<node_decl> load_strategy_file(const std::string& path, std::string* strategy_name) {
  return parse_strategy(toml_file(path), strategy_name);
}

std::vector<node_decl> load_strategy_text(const std::string& text, const std::string& origin,
                                          std::string* strategy_name) {
  return parse_strategy(toml_file(origin, text), strategy_name);
}

config load_config(const std::string& path) {
  config c;
  c.path = path;
  const toml_file doc(path);
  table_reader r(doc.root(), doc, "");
  c.engine = detail::parse_engine_section(doc);
  r.get("engine");
  c.cluster = detail::parse_cluster_section(doc, c.engine.name);
  r.get("cluster");
  if (const auto* sources = r.tables("source"))
    for (const auto& t : *sources) c.sources.push_back(parse_source(t, doc));
  for (const auto& s : c.sources) {
    if (s.kind != source_kind::cluster_node) continue;
    if (!c.cluster.enabled)
      throw config_error(s.loc, "source." + s.name + ".kind",
                         "a cluster_node source reads the cluster's stream through this engine's "
                         "[cluster] table (servers, credentials): add one");
    if (s.engine == c.cluster.engine_id)
      throw config_error(s.loc, "source." + s.name + ".engine",
                         "names this engine (" + s.engine +
                             "): a node's outputs reach the nodes below it in the graph itself");
  }
  c.nodes = parse_nodes(r, "");
  r.finish();

  const auto base = std::filesystem::path(path).parent_path();
  std::set<std::string> strategies;
  for (const auto& rel : c.engine.strategies) {
    const std::string file = (base / rel).lexically_normal().string();
    std::string name;
    auto nodes = load_strategy_file(file, &name);
    if (!strategies.insert(name).second)
      throw config_error({file, 1}, "strategy.name", "strategy \"" + name + "\" is declared twice");
    for (auto& n : nodes) c.nodes.push_back(std::move(n));
  }
  return c;
}

}  // namespace shoal
