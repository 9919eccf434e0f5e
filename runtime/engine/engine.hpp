#pragma once
// engine: a planned graph brought to life — a CAF actor system with one node actor per distinct
// NodeID (source streams included), the sources feeding them, and the publisher. No CAF in
// this header: the CLI and tests drive it through plain calls.

#include <memory>
#include <vector>

#include "runtime/engine/node_status.hpp"
#include "runtime/engine/publisher.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

struct engine_counts {
  std::size_t node_actors = 0;    // distinct declared nodes (after dedup)
  std::size_t stream_actors = 0;  // source streams (pass 0)
  std::size_t source_feeds = 0;   // fabricator actors and zmq threads
};

class engine {
 public:
  engine(config cfg, plan p, std::size_t threads = 2);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Binds the publisher, spawns every actor and starts the sources. Throws on a bind error.
  void start();
  // Stops the sources, then the actors, then flushes the publisher. Idempotent.
  void stop();

  engine_counts counts() const;
  std::vector<node_report> nodes() const;
  publisher_stats publish_stats() const;
  const plan& graph() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace shoal
