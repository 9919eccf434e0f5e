#pragma once
// The [engine] table of a config. Private to runtime/graph.

#include "runtime/graph/config.hpp"
#include "runtime/graph/detail/toml_file.hpp"

namespace shoal::detail {

// Reads [engine] of the main config file (defaults when absent); throws config_error.
engine_decl parse_engine_section(const toml_file& doc);

}  // namespace shoal::detail
