#include "runtime/sources/sources.hpp"

namespace shoal {

std::unique_ptr<thread_source> start_source(zmq::context_t& ctx, const source_decl& decl,
                                            const cluster_decl& cluster, std::shared_ptr<ingest> in,
                                            clock& clk) {
  switch (decl.kind) {
    case source_kind::fabricator:
      return start_fabricator_source(decl, std::move(in), clk);
    case source_kind::zmq:
      return start_zmq_source(ctx, decl, std::move(in), clk);
    case source_kind::journal:
      return start_journal_source(decl, std::move(in), clk);
    case source_kind::cluster_node:
      return start_cluster_node_source(decl, cluster, std::move(in), clk);
  }
  throw std::logic_error("start_source: unknown source kind");
}

}  // namespace shoal
