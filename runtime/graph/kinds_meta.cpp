#include "runtime/graph/kinds_meta.hpp"

#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

std::string kinds_meta(const plan& g) {
  value_map kinds;
  for (const auto& n : g.nodes) {
    const kind_info* k = find_kind(n.kind);
    kinds.insert_or_assign(n.kind, Value(value_map{{"version", Value(n.kind_version)},
                                                   {"code_hash", Value(k ? k->code_hash : "")}}));
  }
  return to_msgpack(Value(std::move(kinds)));
}

}  // namespace shoal
