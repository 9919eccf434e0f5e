#include "runtime/engine/inline_graph.hpp"

namespace shoal {

struct inline_graph::node final : node_outlet {
  struct sub {
    node* to;
    std::uint32_t port;
  };
  std::vector<sub> subscribers;
  std::unique_ptr<node_runner> runner;

  void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                      std::int64_t received_ns) override {
    for (const auto& s : subscribers) {
      s.to->runner->output(s.port, seq, bucket, v, received_ns);
    }
  }
  void forward_watermark(std::int64_t ts, std::int64_t received_ns) override {
    for (const auto& s : subscribers) {
      s.to->runner->watermark(s.port, ts, received_ns);
    }
  }
};

namespace {

class inline_inbox final : public node_inbox {
 public:
  inline_inbox(node_runner& runner, flow_control& flow) : runner_(runner), flow_(flow) {}
  // Ingest counted the input as sent; it is handled, with everything downstream, on return.
  void event(std::uint64_t seq, std::int64_t ts, value_ptr payload,
             std::int64_t received_ns) override {
    runner_.event(0, seq, ts, std::move(payload), received_ns);
    flow_.handled();
  }
  void watermark(std::int64_t ts, std::int64_t received_ns) override {
    runner_.watermark(0, ts, received_ns);
    flow_.handled();
  }

 private:
  node_runner& runner_;
  flow_control& flow_;
};

}  // namespace

inline_graph::inline_graph(const plan& g, std::vector<node_runner_args> runners, flow_control& flow,
                           const std::vector<bool>& computed)
    : flow_(flow) {
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    nodes_.push_back(std::make_unique<node>());
  }
  // Subscribers in the order the actor graph wires them (downstream first), so both graphs
  // deliver to a node's subscribers in the same order.
  for (std::size_t i = g.nodes.size(); i-- > 0;) {
    if (!computed.empty() && !computed[i]) continue;
    for (std::size_t p = 0; p < g.nodes[i].inputs.size(); ++p) {
      nodes_[g.nodes[i].inputs[p].upstream]->subscribers.push_back(
          {nodes_[i].get(), static_cast<std::uint32_t>(p)});
    }
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    nodes_[i]->runner = std::make_unique<node_runner>(std::move(runners[i]), *nodes_[i]);
  }
}

inline_graph::~inline_graph() = default;

const node_runner& inline_graph::runner(std::size_t i) const { return *nodes_[i]->runner; }

void inline_graph::restart(std::size_t i, bool fresh) { nodes_[i]->runner->restart(fresh); }

void inline_graph::report_all() {
  for (auto& n : nodes_) n->runner->report_all();
}

std::shared_ptr<node_inbox> inline_graph::inbox(std::size_t i) {
  return std::make_shared<inline_inbox>(*nodes_[i]->runner, flow_);
}

}  // namespace shoal
