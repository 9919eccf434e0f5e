#pragma once
// Sources produce raw input and hand it to ingest, which assigns seqs, journals and forwards.
//  - fabricator: a paced actor over the seeded synthetic market (actors/fabricator). It
//    regenerates from bucket 0 and passes its own per-stream index, so after a restart ingest
//    skips what the journal holds and the feed continues where it ended.
//  - zmq: a thread owning a SUB socket; frames [stream][msgpack payload] are validated against
//    the stream's schema; rejected ones are journaled as rejected, counted and logged once per
//    kind. After idle_timeout without events a stream gets a watermark closing its open bucket.
//  - journal: a thread replaying another data dir's journal as a paced live feed (its records
//    for <source>.<stream>), regenerating like the fabricator. Finite: it reports when done.

#include <atomic>
#include <memory>
#include <thread>

#include "runtime/engine/ingest.hpp"
#include "runtime/graph/config.hpp"

namespace zmq {
class context_t;
}

namespace shoal {

caf::actor spawn_fabricator_source(caf::actor_system& sys, const source_decl& decl,
                                   std::shared_ptr<ingest> in);

// A source that runs on its own thread.
class thread_source {
 public:
  virtual ~thread_source() = default;
  virtual void stop() = 0;
  virtual bool done() const { return false; }  // a finite feed has delivered everything
};

std::unique_ptr<thread_source> start_zmq_source(zmq::context_t& ctx, const source_decl& decl,
                                                std::shared_ptr<ingest> in);
std::unique_ptr<thread_source> start_journal_source(const source_decl& decl,
                                                    std::shared_ptr<ingest> in);

}  // namespace shoal
