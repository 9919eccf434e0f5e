#pragma once
// NodeID: lowercase hex SHA-256 of the canonical MessagePack encoding of
// {kind, kind_version, params, interval_ns, period, on_missing, inputs: [[port, upstream id]]}
// (design §4). Value maps keep keys sorted, so the encoding is canonical by construction.

#include <string>
#include <utility>
#include <vector>

#include "messages/value.hpp"
#include "runtime/window/on_missing.hpp"

namespace shoal {

struct node_identity {
  std::string kind;
  std::int64_t kind_version = 1;
  value_map params;  // normalized
  std::int64_t interval_ns = 0;
  std::int64_t period = 1;
  enum on_missing on_missing = on_missing::skip;
  std::vector<std::pair<std::string, std::string>> inputs;  // (port, upstream NodeID), any order
};

// The canonical map that is hashed (inputs sorted by port).
Value identity_value(const node_identity& n);
std::string compute_node_id(const node_identity& n);
std::string sha256_hex(std::string_view bytes);

}  // namespace shoal
