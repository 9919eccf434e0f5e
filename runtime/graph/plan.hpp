#pragma once
// plan: a loaded config turned into the DAG that runs — inputs resolved (names, strategy-local
// names, tag queries), cycles rejected, NodeIDs computed, equal NodeIDs merged into one node
// (dedup), topological passes and warm-up computed.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/graph/config.hpp"

namespace shoal {

struct plan_input {
  std::string port;
  std::size_t upstream = 0;  // index into plan::nodes
};

struct plan_node {
  std::string id;  // hex NodeID
  std::string kind;
  std::int64_t kind_version = 1;
  value_map params;  // normalized
  std::int64_t interval_ns = 0;
  std::size_t period = 1;
  enum on_missing on_missing = on_missing::skip;
  bool late_side = false;               // late inputs also go to <name>.late (not in the NodeID)
  quality_policy quality;               // build mode's checks (not in the NodeID): the strictest
  std::vector<plan_input> inputs;       // in the kind's port order
  std::vector<std::string> names;       // every name it was declared under, sorted
  std::vector<std::string> strategies;  // strategies that declared it ("" = top level), sorted
  std::vector<std::string> tags;
  std::size_t pass = 0;
  std::size_t warmup = 0;  // buckets of its input streams before its first output
  // Source streams (pass 0) only:
  std::optional<std::size_t> source;  // index into config::sources
  std::optional<stream_decl> stream;

  bool is_stream() const { return source.has_value(); }
  const std::string& name() const { return names.front(); }
};

struct plan {
  std::vector<plan_node> nodes;  // topological order: pass, then first name
  std::map<std::string, std::size_t, std::less<>> by_name;
  std::size_t declared = 0;  // declared nodes (sources' streams not counted)
  std::size_t distinct = 0;  // distinct NodeIDs among them
  std::string graph_hash;    // SHA-256 over the sorted NodeIDs

  std::size_t reused() const { return declared - distinct; }
  double reuse_ratio() const { return declared ? double(reused()) / double(declared) : 0.0; }
  std::size_t stream_count() const { return nodes.size() - distinct; }
};

// Throws config_error naming file:line and the offending key.
plan build_plan(const config& cfg);

// `nodes` (one flag per plan node) and every node upstream of them.
std::vector<bool> with_upstreams(const plan& g, std::vector<bool> nodes);

// The `shoal plan` table and the Graphviz DOT of the DAG (plan_print.cpp).
std::string plan_to_text(const plan& p);
std::string plan_to_dot(const plan& p);
// Each node's whole NodeID and its names, a line each (`shoal plan --ids`).
std::string plan_to_ids(const plan& p);

namespace detail {
std::string join(const std::vector<std::string>& xs, const char* sep);  // "a" sep "b"
}  // namespace detail

}  // namespace shoal
