#pragma once
// Sources produce raw input and hand it to ingest (a record_sink), which assigns seqs, journals
// and forwards. Each runs on a thread it owns, waiting on the engine's clock, so no source ever
// blocks an actor's scheduler thread.
//  - fabricator: one seeded synthetic bucket per pace (fabricator_feed.hpp). It regenerates
//    from bucket 0 and passes its own per-stream index, so after a restart ingest skips what the
//    journal holds and the feed continues where it ended.
//  - zmq: a SUB socket; frames [stream][msgpack payload] are validated against the stream's
//    schema; rejected ones are journaled as rejected, counted and logged once per kind. Event
//    time, bounded jumps and idle watermarks: source_progress.hpp.
//  - journal: another data dir's journal replayed as a paced live feed (its records for
//    <source>.<stream>), regenerating like the fabricator. Finite: it reports when done.
//  - cluster_node: another engine's nodes' outputs read from the cluster's stream, each node's
//    seq passed as the index, so a restart goes on after what the journal holds.

#include <atomic>
#include <memory>
#include <thread>

#include "runtime/clock/clock.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/graph/config.hpp"

namespace zmq {
class context_t;
}

namespace shoal {

// A source that runs on its own thread.
class thread_source {
 public:
  virtual ~thread_source() = default;
  virtual void stop() = 0;
  virtual bool done() const { return false; }  // a finite feed has delivered everything
};

// Starts the source a declaration describes, by its kind. `cluster`: the engine's [cluster]
// table, which a cluster_node source reads the stream through.
std::unique_ptr<thread_source> start_source(zmq::context_t& ctx, const source_decl& decl,
                                            const cluster_decl& cluster, std::shared_ptr<ingest> in,
                                            clock& clk);

std::unique_ptr<thread_source> start_fabricator_source(const source_decl& decl,
                                                       std::shared_ptr<ingest> in, clock& clk);
std::unique_ptr<thread_source> start_zmq_source(zmq::context_t& ctx, const source_decl& decl,
                                                std::shared_ptr<ingest> in, clock& clk);
std::unique_ptr<thread_source> start_journal_source(const source_decl& decl,
                                                    std::shared_ptr<ingest> in, clock& clk);
std::unique_ptr<thread_source> start_cluster_node_source(const source_decl& decl,
                                                         const cluster_decl& cluster,
                                                         std::shared_ptr<ingest> in, clock& clk);

}  // namespace shoal
