#pragma once
// node_host: the CAF actor that runs one distinct node (one NodeID, whatever names it has). A
// thin shell around node_runner (plain C++, runtime/engine/node_runner.hpp): it hands the
// runner each message, forwards what the runner emits to its subscribers, and accounts for
// every message in flow control.

#include <memory>
#include <vector>

#include "runtime/engine/actor_messages.hpp"
#include "runtime/engine/flow_control.hpp"
#include "runtime/engine/node_inbox.hpp"
#include "runtime/engine/node_runner.hpp"

namespace shoal {

struct node_host_args {
  node_runner_args runner;
  std::vector<subscriber> subscribers;
  std::shared_ptr<flow_control> flow;
};

// Messages (runtime/engine/actor_messages.hpp):
//   (event_atom | output_atom | watermark_atom, …)   inputs
//   (checkpoint_atom) -> std::string                  the node's state, for the state db
//   (window_atom) -> std::string                      its window, for admin
//   (pause_atom, bool) -> bool                        hold / resume inputs
//   (subscribe_atom, actor, port) -> bool, (unsubscribe_atom, actor) -> bool
//   (names_atom, names) -> bool                       the names it publishes under
//   (restart_atom, bool fresh) -> bool                back from FAILED
//   (warm_done_atom, ports) -> bool                   end of a warm start
//   (renew_atom, has_state, state) -> bool             a new runner from these args, restored
//                                                      from `state` (none: empty), before any
//                                                      input came (a start that learns a
//                                                      node's state after spawning it)
caf::actor spawn_node_host(caf::actor_system& sys, node_host_args args);

// Ingest's way into a node actor: each input becomes an (event_atom | watermark_atom) message.
std::shared_ptr<node_inbox> actor_inbox(caf::actor node);

}  // namespace shoal
