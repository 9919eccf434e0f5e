#pragma once
// [[node]]: a node as declared in the main config or a strategy file, before its inputs are
// resolved (plan.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/value.hpp"
#include "runtime/graph/config_error.hpp"
#include "runtime/window/on_missing.hpp"

namespace shoal {

struct input_decl {
  std::string port;
  std::string upstream;           // a name, or empty for a tag query
  std::vector<std::string> tags;  // tag query
  bool match_all = false;
  source_loc loc;
};

// Build mode's quality circuit breaker, per node (docs/build_mode.md): what a segment's outputs
// may look like before the segment counts as FAILED at stage quality. Unset: the defaults.
struct quality_policy {
  std::optional<double> max_null_pct;  // % of outputs that may be nil (default 50)
  std::optional<bool> allow_flatline;  // a numeric field equal over a whole segment
  std::optional<bool> allow_empty;     // every output an empty list, vector or map
};

struct node_decl {
  std::string name;      // qualified: "<strategy>.<node>" inside a strategy
  std::string strategy;  // empty for top-level nodes
  std::string kind;
  value_map params;
  std::vector<input_decl> inputs;
  std::optional<std::int64_t> interval_ns;
  std::optional<std::int64_t> period;
  enum on_missing on_missing = on_missing::skip;
  bool late_side = false;  // late = "side": late inputs are also published on <name>.late
  quality_policy quality;  // not in the NodeID: it decides what a build keeps, not what it computes
  std::vector<std::string> tags;
  std::string description;
  source_loc loc;
  source_loc params_loc;
};

}  // namespace shoal
