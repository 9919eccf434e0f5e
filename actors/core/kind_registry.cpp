#include "actors/core/kind_registry.hpp"

#include <map>
#include <mutex>

#include "actors/builtin_kinds.hpp"

namespace shoal {
namespace {

struct registry {
  std::mutex mu;
  std::map<std::string, kind_info, std::less<>> kinds;
};

registry& instance() {
  static registry* r = [] {
    auto* reg = new registry;
    for (auto& k : builtin_kinds()) reg->kinds.emplace(k.name, std::move(k));
    return reg;
  }();
  return *r;
}

}  // namespace

void register_kind(kind_info info) {
  auto& r = instance();
  std::lock_guard lock(r.mu);
  r.kinds.insert_or_assign(info.name, std::move(info));
}

const kind_info* find_kind(std::string_view name) {
  auto& r = instance();
  std::lock_guard lock(r.mu);
  auto it = r.kinds.find(name);
  return it == r.kinds.end() ? nullptr : &it->second;
}

std::vector<std::string> kind_names() {
  auto& r = instance();
  std::lock_guard lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [name, _] : r.kinds) out.push_back(name);
  return out;
}

}  // namespace shoal
