#pragma once
// inline_graph: every node_runner of a plan driven in the calling thread, without actors. An
// output goes straight into its subscribers' runners, depth first; a stream's input enters
// through inbox(). Replay uses it: no mailbox, no message allocation, no thread hop per output.
//
// Outputs are byte-identical to the actor graph's. A runner fires a bucket only once every
// port has closed it (its window decides, not arrival order), so its outputs do not depend on
// how its inputs interleave, and depth-first delivery is one interleaving the actors could
// have produced. The scenario and parity tests replay both ways.
//
// What it cannot do is change: strategies submitted, removed or restarted at runtime need the
// actor graph, so a journal with control records is replayed with actors.

#include <memory>
#include <vector>

#include "runtime/engine/flow_control.hpp"
#include "runtime/engine/node_inbox.hpp"
#include "runtime/engine/node_runner.hpp"

namespace shoal {

class inline_graph {
 public:
  // runners[i]: the arguments of plan node i's runner. Flow control sees every input handled
  // before inbox() returns, so nothing is ever in flight. `computed` (empty: every node): the
  // nodes fed; the others are fed nothing (a placed heir brings only a checkpoint's share
  // forward, runtime/engine/engine_handover.cpp).
  inline_graph(const plan& g, std::vector<node_runner_args> runners, flow_control& flow,
               const std::vector<bool>& computed = {});
  ~inline_graph();
  inline_graph(const inline_graph&) = delete;
  inline_graph& operator=(const inline_graph&) = delete;

  // Where ingest hands stream node i's input.
  std::shared_ptr<node_inbox> inbox(std::size_t i);
  std::size_t size() const { return nodes_.size(); }
  const node_runner& runner(std::size_t i) const;
  // A journaled node restart, applied where it was recorded (node_runner::restart).
  void restart(std::size_t i, bool fresh);
  // Every runner's counters on the board now (they update it every report_every messages).
  void report_all();

 private:
  struct node;
  std::vector<std::unique_ptr<node>> nodes_;
  flow_control& flow_;
};

}  // namespace shoal
