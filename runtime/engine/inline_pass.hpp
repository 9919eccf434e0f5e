#pragma once
// inline_pass: some nodes of a plan run inline, without actors, over a stretch of the local
// journal, each from a state given to it (or empty). A placed process brings a dead process's
// share forward with it (engine_handover.cpp, engine_take.cpp), and computes the outputs a handed
// node lacks before its checkpoint (the backfill). The outputs are byte-identical to the actor
// graph's (inline_graph.hpp says why).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine/flow_control.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/inline_graph.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

// Records per batch of an inline pass: between batches it looks for a stop, and a pass beside the
// live graph waits for its outputs to be committed (it never fills the writer's queue the live
// nodes share).
inline constexpr std::uint64_t pass_batch = 2048;

class inline_pass {
 public:
  // The nodes `fed` of plan p; setup(i, a) completes runner i's arguments (checkpoint, writer,
  // publisher, quiet_through).
  inline_pass(std::shared_ptr<const plan> p, const std::vector<bool>& fed,
              const std::function<void(std::size_t, node_runner_args&)>& setup);

  const inline_graph& graph() const { return *graph_; }

  // Journal records from+1..to of db, as catch_up hands them to the actor graph: a node restart
  // applied where it was recorded, a stream's time mode changing nothing a node computes.
  // after_batch() runs between batches; false from it stops the pass ("stopped"). Returns why
  // the pass did not get through `to` ("" when it did).
  std::string run(const store& db, std::uint64_t from, std::uint64_t to,
                  const std::function<bool()>& after_batch);
  // The last journal record the nodes took (`from` before run): their states are at it while
  // after_batch runs.
  std::uint64_t fed_through() const { return fed_through_; }

 private:
  bool feed(const journal_record& r);

  std::shared_ptr<const plan> plan_;
  std::vector<bool> fed_;
  std::shared_ptr<status_board> board_ = std::make_shared<status_board>();
  flow_control flow_;
  std::unique_ptr<inline_graph> graph_;
  std::unique_ptr<ingest> feed_;
  std::uint64_t fed_through_ = 0;
};

}  // namespace shoal
