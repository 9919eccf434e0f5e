#pragma once
// The TOML configuration of an engine, as declared: [engine], [[source]], [[node]] and the
// strategy files it lists. Loading checks syntax, types and keys and remembers where each
// declaration came from; resolving inputs, NodeIDs and dedup happen in plan.hpp.

#include <string>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"
#include "runtime/graph/config_error.hpp"
#include "runtime/graph/engine_decl.hpp"
#include "runtime/graph/node_decl.hpp"
#include "runtime/graph/source_decl.hpp"

namespace shoal {

struct config {
  std::string path;
  engine_decl engine;
  cluster_decl cluster;  // [cluster]: absent = single process
  std::vector<source_decl> sources;
  std::vector<node_decl> nodes;
};

// Loads CONFIG and the strategy files it lists. Throws config_error.
config load_config(const std::string& path);

// Parses one strategy file's nodes (names qualified by its [strategy] name).
std::vector<node_decl> load_strategy_file(const std::string& path, std::string* strategy_name);
// The same for a strategy given as text (submitted inline); errors name `origin` for the file.
std::vector<node_decl> load_strategy_text(const std::string& text, const std::string& origin,
                                          std::string* strategy_name);

}  // namespace shoal
