#pragma once
// [cluster]: the NATS JetStream cluster an engine replicates its journal to (design §12). Absent
// (the default), the engine is the single-process one and needs no NATS.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/graph/config_error.hpp"

namespace shoal {

// How the engine connects to servers beyond a trusted network: TLS, and who it is to them. Only
// file names: the config is journaled and published on the config subject, so a secret written
// in it would travel with every copy. Relative names are relative to the config file.
struct cluster_security {
  std::string ca_file;           // PEM CAs the servers' certificates must chain to (turns TLS on)
  std::string cert_file;         // PEM client certificate (mutual TLS), with key_file
  std::string key_file;          // its PEM private key: the owner's alone (mode 0600)
  std::string credentials_file;  // a NATS .creds file (user JWT and nkey seed), mode 0600
  std::string user;              // user and password_file: the servers' `authorization` users
  std::string password_file;     // the password on its first line, mode 0600
  bool any_tls() const { return !ca_file.empty() || !cert_file.empty(); }
};

struct cluster_decl {
  bool enabled = false;  // a [cluster] table is present
  // "nats://host:port", "tls://host:port" (TLS) or "host:port", any of the cluster's.
  std::vector<std::string> servers;
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
  // How many processes of the engine share its nodes (docs/cluster.md, "Placement"): the
  // active engine places them on itself and up to members - 1 standbys. 1: the active engine
  // computes every node and a standby copies them all.
  std::int64_t members = 1;
  // The active engine (members = 1) puts its checkpoints into the cluster, and an engine
  // started on an empty data dir restores the latest one there instead of computing the whole
  // journal again (docs/cluster.md, "Checkpoints in the cluster").
  bool checkpoints = true;
  // Placed: the checkpoints of a process that has been neither a member nor placed for this
  // long are removed from the cluster by the active process (checkpoint_sweeper).
  std::int64_t checkpoint_retention_ns = 600'000'000'000;
  // Placed: when a process dies and no standby can take its nodes (members = 2, or every other
  // standby gone), the active process takes them while it runs (docs/cluster.md, "The active
  // process takes them"); false: they stay unpublished until their process is back.
  bool active_takes = true;
  // Placed: while the placement has fewer processes than `members`, a standby of the graph that
  // joins (one that died, started again) gets some of the placed processes' nodes, moved to it
  // while they run (docs/cluster.md, "A standby that joins"); false: it stays outside.
  bool active_gives = true;
  // Placed: when the process computing the most (by measured cost, upstream copies included)
  // computes more than this many times what a placed standby computes, the active process moves
  // one of its nodes there, as admin `move` does (docs/cluster.md, "Rebalancing"); at most one
  // move every rebalance_every. 0: off (nodes move only when a process dies, a standby joins, or
  // an operator moves one).
  double rebalance_above = 0;
  std::int64_t rebalance_every_ns = 300'000'000'000;
  // Every process puts the outputs of the nodes it publishes into the stream too, each node on
  // its own subject (output_subject), each seq once (docs/cluster.md, "Outputs in the stream"):
  // a subscriber reads any node's outputs from there, from any seq, wherever the node runs.
  bool stream_outputs = false;
  cluster_security security;
  source_loc loc;

  // TLS is on when a server URL says tls:// or [cluster] tls names a CA or a certificate.
  bool tls() const {
    for (const auto& s : servers)
      if (s.rfind("tls://", 0) == 0) return true;
    return security.any_tls();
  }
  // Twice heartbeat_ttl: by then a lease or membership its holder stopped renewing is gone.
  std::chrono::milliseconds expiry_wait() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(2 * heartbeat_ttl_ns));
  }
  // Checkpoints go to (and an empty dir restores from) the cluster: an engine computing every
  // node (not placed).
  bool checkpoints_in_cluster() const { return checkpoints && members == 1; }
  std::string journal_subject() const { return subjects + ".in." + engine_id; }
  std::string config_subject() const { return subjects + ".config." + engine_id; }
  // A node's outputs in the stream (stream_outputs): <subjects>.out.<engine_id>.<NodeID hex>.
  // The engine is named as on the journal: two engines with the same node number its outputs
  // from their own starts.
  std::string output_subject(std::string_view id_hex) const {
    return subjects + ".out." + engine_id + "." + std::string(id_hex);
  }
};

}  // namespace shoal
