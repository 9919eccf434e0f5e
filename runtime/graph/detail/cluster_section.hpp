#pragma once
// The [cluster] table of a config. Private to runtime/graph.

#include "runtime/graph/cluster_decl.hpp"
#include "runtime/graph/detail/toml_file.hpp"

namespace shoal::detail {

// A NATS subject token or stream name: letters, digits, '-' and '_' (no '.', '*', '>' or space,
// which subjects and stream names give a meaning), at most 64.
bool plain_token(const std::string& s);

// Reads [cluster] of the main config file (disabled when absent); throws config_error.
// `engine_name` is the default engine_id.
cluster_decl parse_cluster_section(const toml_file& doc, const std::string& engine_name);

}  // namespace shoal::detail
