#include "runtime/engine/node_status.hpp"

#include <algorithm>
#include <map>

namespace shoal {

const char* to_string(node_state s) {
  switch (s) {
    case node_state::warming:
      return "WARMING";
    case node_state::running:
      return "RUNNING";
    case node_state::paused:
      return "PAUSED";
    case node_state::failed:
      return "FAILED";
    case node_state::blocked:
      return "BLOCKED";
  }
  return "?";
}

std::shared_ptr<node_report> status_board::add(node_report initial) {
  auto r = std::make_shared<node_report>(std::move(initial));
  std::lock_guard lock(mu_);
  reports_.push_back(r);
  return r;
}

void status_board::remove(const std::shared_ptr<node_report>& r) {
  std::lock_guard lock(mu_);
  reports_.erase(std::remove(reports_.begin(), reports_.end(), r), reports_.end());
}

std::vector<node_report> effective_reports(const plan& g, std::vector<node_report> reports) {
  std::map<std::string, node_report*> by_id;
  for (auto& r : reports) by_id[r.id] = &r;
  for (const auto& n : g.nodes) {  // topological: upstreams are settled first
    auto it = by_id.find(n.id);
    if (it == by_id.end()) continue;
    node_report& r = *it->second;
    if (r.state == node_state::failed) continue;
    for (const auto& in : n.inputs) {
      auto up = by_id.find(g.nodes[in.upstream].id);
      if (up == by_id.end()) continue;
      const node_report& u = *up->second;
      if (u.state == node_state::failed || u.state == node_state::blocked) {
        r.state = node_state::blocked;
        r.reason = "upstream " + u.names.front() + " is " +
                   (u.state == node_state::failed ? "FAILED" : "BLOCKED");
        break;
      }
    }
    if (r.state != node_state::blocked && r.paused) r.state = node_state::paused;
  }
  return reports;
}

std::vector<node_report> status_board::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<node_report> out;
  for (const auto& r : reports_) out.push_back(*r);
  return out;
}

std::shared_ptr<node_report> add_node_report(status_board& board, const plan_node& n) {
  node_report r;
  r.id = n.id;
  r.kind = n.kind;
  r.names = n.names;
  r.stream = n.is_stream();
  return board.add(std::move(r));
}

}  // namespace shoal
