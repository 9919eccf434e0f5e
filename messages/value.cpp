#include "messages/value.hpp"

namespace shoal {

const Value* Value::find(std::string_view key) const {
  if (!is_map()) return nullptr;
  const auto& m = as_map();
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

const char* Value::type_name() const {
  static constexpr const char* names[] = {"nil",        "bool", "int", "double", "string",
                                          "f64 vector", "list", "map", "list"};
  return names[v.index()];
}

std::size_t resident_bytes(const Value& v) {
  std::size_t n = sizeof(Value);
  if (v.is_string()) {
    const auto& s = v.as_string();
    if (s.capacity() > 15) n += s.capacity() + 1;  // beyond the small-string buffer
  } else if (v.is_f64_vector()) {
    n += v.as_f64_vector().capacity() * sizeof(double);
  } else if (v.as_shared_list()) {
    // Shared by the payloads that hold it: count its elements once per holder anyway (an
    // upper bound, as the window metrics were before lists were shared).
    for (const auto& x : v.as_list()) n += resident_bytes(x);
  } else if (v.is_list()) {
    const auto& l = v.as_list();
    n += (l.capacity() - l.size()) * sizeof(Value);
    for (const auto& x : l) n += resident_bytes(x);
  } else if (v.is_map()) {
    for (const auto& [k, x] : v.as_map()) {
      n += 4 * sizeof(void*);  // red-black tree node header
      n += sizeof(std::string) + (k.capacity() > 15 ? k.capacity() + 1 : 0);
      n += resident_bytes(x);
    }
  }
  return n;
}

}  // namespace shoal
