#pragma once
// [cluster]: the NATS JetStream cluster an engine replicates its journal to (design §12). Absent
// (the default), the engine is the single-process one and needs no NATS.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/graph/config_error.hpp"

namespace shoal {

struct cluster_decl {
  bool enabled = false;              // a [cluster] table is present
  std::vector<std::string> servers;  // "nats://host:port" (or "host:port"), any of the cluster's
  // Names this engine in the cluster: its journal subject and its message ids. Default: the
  // [engine] name.
  std::string engine_id;
  std::string stream = "SHOAL";    // the JetStream stream holding the journal
  std::string subjects = "shoal";  // subject prefix: journals are <subjects>.in.<engine_id>
  std::int64_t replicas = 3;       // copies JetStream keeps of each record (1..5)
  // How long JetStream remembers a message id: a retried publish within it is stored once.
  std::int64_t duplicate_window_ns = 120'000'000'000;
  // The lease of an ingesting engine expires this long after its holder's last renewal (the
  // holder renews every third of it): a standby takes over within about this long of a kill.
  std::int64_t heartbeat_ttl_ns = 3'000'000'000;
  source_loc loc;

  std::string journal_subject() const { return subjects + ".in." + engine_id; }
  std::string config_subject() const { return subjects + ".config." + engine_id; }
};

}  // namespace shoal
