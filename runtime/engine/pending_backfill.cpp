#include "runtime/engine/pending_backfill.hpp"

#include <algorithm>

#include "messages/msgpack_codec.hpp"

namespace shoal {

void pending_backfill::add(const std::set<std::string>& more, std::uint64_t to) {
  if (!std::includes(nodes.begin(), nodes.end(), more.begin(), more.end())) {
    from = 0;
    states.clear();
  }
  nodes.insert(more.begin(), more.end());
  through = std::max(through, to);
}

std::optional<pending_backfill> decode_backfill(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  // The states are node checkpoints: the limits of stored data, not of a frame.
  const Value v = from_msgpack(bytes, stored_data_limits());
  pending_backfill b;
  if (const Value* t = v.find("through"); t && t->is_int() && t->as_int() > 0)
    b.through = static_cast<std::uint64_t>(t->as_int());
  if (const Value* nodes = v.find("nodes"); nodes && nodes->is_list()) {
    for (const auto& id : nodes->as_list())
      if (id.is_string()) b.nodes.insert(id.as_string());
  }
  if (b.nodes.empty() || b.through == 0) return std::nullopt;
  const Value* from = v.find("from");
  const Value* states = v.find("states");
  if (!from || !from->is_int() || from->as_int() <= 0 ||
      static_cast<std::uint64_t>(from->as_int()) > b.through || !states || !states->is_map())
    return b;
  for (const auto& [id, state] : states->as_map()) {
    if (!state.is_string()) return b;
  }
  for (const auto& [id, state] : states->as_map()) b.states.emplace(id, state.as_string());
  if (!b.states.empty()) b.from = static_cast<std::uint64_t>(from->as_int());
  return b;
}

std::string encode_backfill(const pending_backfill& b) {
  value_list nodes;
  for (const auto& id : b.nodes) nodes.emplace_back(id);
  value_map states;
  for (const auto& [id, state] : b.states) states.emplace(id, Value(state));
  return to_msgpack(Value(value_map{{"through", Value(b.through)},
                                    {"nodes", Value(std::move(nodes))},
                                    {"from", Value(b.from)},
                                    {"states", Value(std::move(states))}}));
}

}  // namespace shoal
