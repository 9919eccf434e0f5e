#pragma once
// node_host: the CAF actor that runs one distinct node (one NodeID, whatever names it has).
// It feeds its window cache from upstream outputs (or raw events, for source streams), fires
// the kernel when a bucket is ready, publishes the Output under each of its names and forwards
// it to its subscribers. A kernel that throws leaves the node FAILED; the graph runs on.

#include <memory>
#include <vector>

#include <optional>
#include <string>

#include "runtime/engine/actor_messages.hpp"
#include "runtime/engine/flow_control.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/engine/publisher.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/store/output_digest.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

struct node_host_args {
  std::shared_ptr<const plan> graph;
  std::size_t index = 0;  // into graph->nodes
  std::vector<subscriber> subscribers;
  std::shared_ptr<publisher> pub;        // null: do not publish (replay)
  std::shared_ptr<store_writer> writer;  // null: do not store outputs
  std::shared_ptr<flow_control> flow;
  std::shared_ptr<status_board> board;
  std::shared_ptr<node_report> report;
  std::optional<std::string> checkpoint;  // restore this state before the first message
  std::shared_ptr<digest_chain> digest;   // null: no digest (see replay --digest)
};

// (checkpoint_atom) → std::string: the node's state (window, kernel, seq) as msgpack.

caf::actor spawn_node_host(caf::actor_system& sys, node_host_args args);

}  // namespace shoal
