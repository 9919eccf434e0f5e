#pragma once
// The [engine] table of a config. Private to runtime/graph.

#include <set>
#include <string>

#include "runtime/graph/config.hpp"
#include "runtime/graph/detail/toml_file.hpp"

namespace shoal::detail {

// Reads [engine] of the main config file (defaults when absent); throws config_error.
engine_decl parse_engine_section(const toml_file& doc);

// Every key parse_engine_section accepts: the keys it asks an empty [engine] for (it asks for
// each one whether present or not). config/engine.toml must list them all (a unit test).
std::set<std::string> engine_section_keys();

}  // namespace shoal::detail
