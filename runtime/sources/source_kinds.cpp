#include "runtime/sources/source_kinds.hpp"

#include <algorithm>
#include <set>

#include "runtime/graph/detail/table_reader.hpp"

namespace shoal {

const std::vector<source_kind_info>& source_kinds() {
  static const std::vector<source_kind_info> kinds{
      {source_kind::fabricator, "fabricator", "seeded synthetic scans and order books, paced",
       parse_fabricator_config},
      {source_kind::zmq, "zmq", "a SUB socket: a feed's events or another engine's outputs",
       parse_zmq_config},
      {source_kind::journal, "journal", "another data dir's journal replayed as a paced feed",
       parse_journal_config},
      {source_kind::cluster_node, "cluster_node",
       "another engine's node outputs read from the cluster's stream, none lost or repeated",
       parse_cluster_node_config}};
  return kinds;
}

const source_kind_info* find_source_kind(std::string_view name) {
  for (const auto& k : source_kinds()) {
    if (name == k.name) {
      return &k;
    }
  }
  return nullptr;
}

const char* to_string(source_kind kind) {
  for (const auto& k : source_kinds()) {
    if (k.kind == kind) {
      return k.name;
    }
  }
  return "?";
}

std::string source_kind_summaries() {
  std::string out;
  for (const auto& k : source_kinds())
    out += (out.empty() ? "" : "; ") + std::string(k.name) + ": " + k.summary;
  return out;
}

namespace {

bool is_node_id(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

stream_decl parse_stream(const toml::value& t, const detail::toml_file& doc,
                         const std::string& source, bool nodes) {
  detail::table_reader r(t, doc, "source." + source + ".stream");
  stream_decl s;
  s.name = r.required_str("name");
  if (nodes) {
    s.node = r.required_str("node");
    if (!is_node_id(s.node))
      r.fail("node",
             "must be the NodeID of the other engine's node: 64 lowercase hex digits (`shoal plan "
             "--ids` of its config prints them)");
  }
  if (auto x = r.str("schema")) s.schema = *x;
  static const std::set<std::string> schemas{"scan", "ob",  "books", "posture",
                                             "esof", "acb", "mc",    "any"};
  if (!schemas.count(s.schema))
    r.fail("schema",
           "unknown schema \"" + s.schema + "\" (scan, ob, books, posture, esof, acb, mc, any)");
  if (auto x = r.boolean("one_per_bucket")) s.one_per_bucket = *x;
  if (auto x = r.str("key")) s.key = *x;
  if (auto x = r.str("time")) {
    auto t = parse_stream_time(*x);
    if (!t) r.fail("time", "must be " + stream_time_choices());
    s.time = *t;
  }
  r.finish();
  return s;
}

}  // namespace

std::vector<stream_decl> parse_stream_tables(detail::table_reader& r, const std::string& source,
                                             bool nodes) {
  std::vector<stream_decl> out;
  if (const auto* streams = r.tables("stream"))
    for (const auto& st : *streams) out.push_back(parse_stream(st, r.doc(), source, nodes));
  return out;
}

std::vector<stream_decl> fabricator_streams(bool books) {
  std::vector<stream_decl> s{{"scan", "scan", true, std::nullopt, stream_time::payload, {}}};
  if (books) s.push_back({"ob", "ob", false, std::string("asset"), stream_time::payload, {}});
  return s;
}

}  // namespace shoal
