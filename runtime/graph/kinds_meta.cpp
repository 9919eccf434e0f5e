#include "runtime/graph/kinds_meta.hpp"

#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

std::map<std::string, recorded_kind> read_kinds_meta(const std::optional<std::string>& bytes) {
  std::map<std::string, recorded_kind> out;
  if (!bytes) return out;
  try {
    const Value v = from_msgpack(*bytes);
    if (!v.is_map()) return out;
    for (const auto& [kind, k] : v.as_map()) {
      recorded_kind r;
      if (const Value* f = k.find("version"); f && f->is_int()) r.version = f->as_int();
      if (const Value* f = k.find("code_hash"); f && f->is_string()) r.code_hash = f->as_string();
      if (const Value* f = k.find("behaviour"); f && f->is_string()) r.behaviour = f->as_string();
      if (r.behaviour.empty()) r.behaviour = r.code_hash;  // recorded before behaviour ids
      out.emplace(kind, std::move(r));
    }
  } catch (const std::exception&) {
    out.clear();  // unreadable: as if nothing was recorded (every kind counts as new code)
  }
  return out;
}

std::string kinds_meta(const plan& g, const std::map<std::string, recorded_kind>& previous,
                       const std::map<std::string, std::string>& behaviour) {
  value_map kinds;
  for (const auto& n : g.nodes) {
    const kind_info* k = find_kind(n.kind);
    const std::string code = k ? k->code_hash : "";
    std::string id = code;
    if (auto b = behaviour.find(n.kind); b != behaviour.end()) {
      id = b->second;
    } else if (auto p = previous.find(n.kind); p != previous.end() && p->second.code_hash == code &&
                                               p->second.version == n.kind_version) {
      id = p->second.behaviour;
    }
    kinds.insert_or_assign(n.kind, Value(value_map{{"version", Value(n.kind_version)},
                                                   {"code_hash", Value(code)},
                                                   {"behaviour", Value(id)}}));
  }
  return to_msgpack(Value(std::move(kinds)));
}

}  // namespace shoal
