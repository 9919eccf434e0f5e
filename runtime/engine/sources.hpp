#pragma once
// Sources feed the stream nodes of pass 0 with raw events, assigning each stream's seq.
//  - fabricator: a paced actor over the seeded synthetic market (actors/fabricator).
//  - zmq: a thread owning a SUB socket; frames [stream][msgpack payload] are validated against
//    the stream's schema, rejected ones counted and logged once per kind, good ones forwarded.
//    After idle_timeout without events a stream gets a watermark closing its open bucket.

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/engine/actor_messages.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/graph/config.hpp"

namespace zmq {
class context_t;
}

namespace shoal {

// One target per declared stream of the source, in declaration order.
struct stream_target {
  caf::actor node;
  std::shared_ptr<node_report> report;
};

caf::actor spawn_fabricator_source(caf::actor_system& sys, const source_decl& decl,
                                   std::vector<stream_target> streams);

class zmq_source {
 public:
  zmq_source(zmq::context_t& ctx, source_decl decl, std::vector<stream_target> streams,
             std::shared_ptr<status_board> board);
  ~zmq_source();
  void stop();

 private:
  void run(zmq::context_t& ctx);

  source_decl decl_;
  std::vector<stream_target> streams_;
  std::shared_ptr<status_board> board_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace shoal
