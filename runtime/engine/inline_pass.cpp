#include "runtime/engine/inline_pass.hpp"

#include <algorithm>
#include <map>

namespace shoal {

inline_pass::inline_pass(std::shared_ptr<const plan> p, const std::vector<bool>& fed,
                         const std::function<void(std::size_t, node_runner_args&)>& setup)
    : plan_(std::move(p)), fed_(fed) {
  std::vector<node_runner_args> runners;
  std::vector<std::shared_ptr<node_report>> reports;
  for (std::size_t i = 0; i < plan_->nodes.size(); ++i) {
    node_runner_args a;
    a.graph = plan_;
    a.index = i;
    a.board = board_;
    a.report = add_node_report(*board_, plan_->nodes[i]);
    reports.push_back(a.report);
    if (fed_[i]) setup(i, a);
    runners.push_back(std::move(a));
  }
  graph_ = std::make_unique<inline_graph>(*plan_, std::move(runners), flow_, fed_);
  std::map<std::string, ingest_target, std::less<>> streams;
  for (std::size_t i = 0; i < plan_->nodes.size(); ++i)
    if (fed_[i] && plan_->nodes[i].is_stream())
      for (const auto& name : plan_->nodes[i].names)
        streams[name] = {graph_->inbox(i), reports[i], true};
  feed_ = std::make_unique<ingest>(std::move(streams), nullptr, flow_, board_);
}

std::string inline_pass::run(const store& db, std::uint64_t from, std::uint64_t to,
                             const std::function<bool()>& after_batch) {
  fed_through_ = from;
  for (std::uint64_t pos = from; pos < to;) {
    const std::uint64_t first = pos + 1;
    const auto batch = db.read_records(&pos, std::min(pass_batch, to - pos));
    if (batch.empty()) return "the journal ends before record " + std::to_string(to);
    for (std::size_t k = 0; k < batch.size(); ++k)
      if (!feed(batch[k]))
        return "journal record " + std::to_string(first + k) +
               " changes the graph, which only the actor graph goes through";
    fed_through_ = pos;
    if (!after_batch()) return "stopped";
  }
  return "";
}

bool inline_pass::feed(const journal_record& r) {
  const auto* c = std::get_if<Control>(&r);
  if (!c) {
    feed_->forward(r);
    return true;
  }
  if (c->kind == "submit" || c->kind == "remove") return false;  // never in a placed graph
  if (c->kind != "restart") return true;
  const Value* node = c->args.count("node") ? &c->args.at("node") : nullptr;
  if (!node || !node->is_string()) return true;  // as apply_control: nothing to restart
  const auto i = plan_->by_name.find(node->as_string());
  if (i != plan_->by_name.end() && fed_[i->second])
    graph_->restart(i->second, control_flag(*c, "fresh"));
  return true;
}

}  // namespace shoal
