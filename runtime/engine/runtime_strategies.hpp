#pragma once
// runtime_strategies: the strategies an operator changed on a running engine — submitted
// (their TOML text, so the record does not depend on a file that may change) and removed (by
// name). The engine's graph is always its config file with these applied. They are journaled
// as control records where they happen, kept in meta ("strategies") and in every checkpoint, so
// a restart and a replay rebuild the same graph at the same journal position.

#include <map>
#include <set>
#include <string>

#include "messages/value.hpp"
#include "runtime/graph/config.hpp"

namespace shoal {

struct runtime_strategies {
  std::map<std::string, std::string> submitted;  // name → strategy text
  std::set<std::string> removed;                 // names taken away (from the config or above)

  void submit(const std::string& name, const std::string& text);
  void remove(const std::string& name);
  bool empty() const { return submitted.empty() && removed.empty(); }

  Value to_value() const;
  // Throws std::invalid_argument on a malformed value; nil gives none.
  static runtime_strategies from_value(const Value& v);
};

// `base` with the changes applied: nodes of removed strategies dropped, submitted ones added.
// Throws config_error (naming the strategy) when a submitted text no longer parses.
config apply_runtime_strategies(config base, const runtime_strategies& rt);

}  // namespace shoal
