#include "runtime/engine/node_status.hpp"

#include <algorithm>

namespace shoal {

const char* to_string(node_state s) {
  switch (s) {
    case node_state::warming:
      return "WARMING";
    case node_state::running:
      return "RUNNING";
    case node_state::failed:
      return "FAILED";
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

std::vector<node_report> status_board::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<node_report> out;
  for (const auto& r : reports_) out.push_back(*r);
  return out;
}

}  // namespace shoal
