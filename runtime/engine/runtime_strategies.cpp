#include "runtime/engine/runtime_strategies.hpp"

#include <algorithm>
#include <stdexcept>

namespace shoal {

void runtime_strategies::submit(const std::string& name, const std::string& text) {
  submitted[name] = text;
}

void runtime_strategies::remove(const std::string& name) {
  submitted.erase(name);
  removed.insert(name);
}

Value runtime_strategies::to_value() const {
  value_map sub;
  for (const auto& [name, text] : submitted) sub[name] = Value(text);
  value_list rem;
  for (const auto& name : removed) rem.emplace_back(name);
  return Value(value_map{{"submitted", Value(std::move(sub))}, {"removed", Value(std::move(rem))}});
}

runtime_strategies runtime_strategies::from_value(const Value& v) {
  runtime_strategies rt;
  if (v.is_nil()) return rt;
  const Value* sub = v.find("submitted");
  const Value* rem = v.find("removed");
  if (!sub || !sub->is_map() || !rem || !rem->is_list())
    throw std::invalid_argument("malformed runtime strategies record");
  for (const auto& [name, text] : sub->as_map()) {
    if (!text.is_string()) throw std::invalid_argument("strategy text is not a string");
    rt.submitted[name] = text.as_string();
  }
  for (const auto& name : rem->as_list()) {
    if (!name.is_string()) throw std::invalid_argument("removed strategy is not a string");
    rt.removed.insert(name.as_string());
  }
  return rt;
}

config apply_runtime_strategies(config base, const runtime_strategies& rt) {
  auto gone = [&](const node_decl& n) {
    return !n.strategy.empty() && (rt.removed.count(n.strategy) || rt.submitted.count(n.strategy));
  };
  base.nodes.erase(std::remove_if(base.nodes.begin(), base.nodes.end(), gone), base.nodes.end());
  for (const auto& [name, text] : rt.submitted) {
    std::string declared;
    auto nodes = load_strategy_text(text, "strategy " + name + " (submitted)", &declared);
    for (auto& n : nodes) base.nodes.push_back(std::move(n));
  }
  return base;
}

}  // namespace shoal
