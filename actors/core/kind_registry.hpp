#pragma once
// kind_registry: what the graph needs to know about each node kind — its ports, its version
// (hashed into NodeIDs, so a formula change gives new ids), how to validate params, the period
// it needs, and how to build its kernel.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/kernel.hpp"
#include "actors/core/params.hpp"

namespace shoal {

struct kind_info {
  std::string name;
  std::int64_t version = 1;
  // SHA-256 of the kind's code (kind_code_hash.hpp): set for the built-in kinds, whose folder
  // is named after them; empty for a kind a test registers.
  std::string code_hash;
  std::vector<std::string> ports{"in"};
  // Ports that may lack a value in a bucket without holding it back (see port_spec::optional).
  std::vector<std::string> optional_ports;
  std::string summary;  // one line for `--help` and docs
  // Build mode's quality check (docs/build_mode.md): outputs whose floating-point fields may
  // legitimately hold still for a whole segment (a regime, a clamp, a probability at 0), so a
  // flatline is not taken for a stuck node unless the node's config asks for that check.
  bool steady_outputs = false;
  // Validates params (throws param_error naming the key) and returns them normalized.
  std::function<value_map(const value_map&)> normalize;
  // The period the kind needs given its normalized params.
  std::function<std::size_t(const value_map&)> min_period = [](const value_map&) { return 1; };
  std::function<std::unique_ptr<kernel>(const value_map&, const kernel_context&)> make;
  // Buckets of input history that rebuild the kernel's state exactly (a warm start of a node
  // submitted at runtime, build mode): its period unless its state reaches further back;
  // nullopt for state that depends on all history (ema: from the first bucket).
  std::function<std::optional<std::size_t>(const value_map&, std::int64_t interval_ns,
                                           std::size_t period)>
      warm_history = [](const value_map&, std::int64_t, std::size_t period) {
        return std::optional<std::size_t>(period);
      };
};

// Registers a kind (replacing one of the same name). The built-in kinds are registered on
// first lookup; tests may register their own.
void register_kind(kind_info info);
const kind_info* find_kind(std::string_view name);
std::vector<std::string> kind_names();

}  // namespace shoal
