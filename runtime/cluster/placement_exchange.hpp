#pragma once
// placement_exchange: the placement of an engine's nodes (runtime/cluster/node_placement.hpp)
// through the cluster. The active process places them when it starts, on itself and the
// standbys that wait for a placement of the same graph, and writes the placement under the key
// <engine_id> of the bucket <stream>_placement; a standby reads it when it starts.
// docs/cluster.md, "Placement".

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/node_placement.hpp"
#include "runtime/graph/cluster_decl.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

// An update the cluster refused with the key unchanged (no leader for the bucket during a
// server's failover), or that no server took (no responders): certainly not stored, unlike a
// write it did not acknowledge.
struct placement_refused : cluster_error {
  using cluster_error::cluster_error;
};

std::string placement_bucket(const cluster_decl& c);

// The role a standby advertises in the members bucket while it waits for a placement: only
// such a standby is placed on (one that came too late computes every node, and says so).
inline constexpr const char* placing_role = "placing";

// A plan's nodes as place_nodes takes them, each costing what `measured` says; a node not
// measured (new, or never run long enough) costs the mean of those measured, 1 when none is.
std::vector<placement_node> placement_nodes(const plan& p, const node_costs& measured = {});

class jetstream_link;

// One connection for the placement of engine c.engine_id (its own, requests of at most 2 s).
class placement_channel {
 public:
  explicit placement_channel(const cluster_decl& c);  // throws cluster_error
  ~placement_channel();
  placement_channel(const placement_channel&) = delete;
  placement_channel& operator=(const placement_channel&) = delete;

  // The active process (member instance `self`, holding the lease it wrote as `lease`): waits
  // up to `wait` for c.members - 1 standbys of the engine that wait for a placement of graph p
  // to be listed in the cluster, and places p's nodes on itself and them. The members and nodes
  // of the last placement of the same graph are kept where they can be. Writes nothing (write
  // does, once the process knows it can run its share). Throws cluster_error.
  // !wait_for_standbys (a takeover): places on those listed by the first read that succeeds,
  // `wait` bounding only the reads that fail. `seen`: what members said they published, as this
  // process read it before (a standby that took the lease of an active process that died: the
  // dead one's key may have expired by now); it goes with their nodes as what they list does.
  placement_record choose(const std::string& self, const std::string& lease, const plan& p,
                          std::chrono::milliseconds wait, bool wait_for_standbys = true,
                          const std::map<std::string, member_published>& seen = {});
  // The process that took the lease writes its placement whatever the key holds (a process
  // that held the lease before may have written since this one read it: the lease decides).
  // patient: retries while a bucket just made has no leader (at start).
  void write(const placement_record& r, bool patient);
  // What an update found.
  enum class update_result {
    written,
    overwritten,  // another process wrote the key since (it took the lease: stop placing)
    // One of this channel's updates the cluster did not acknowledge landed since (after the read
    // that looked for it): r, made without it, is not written (holds_one says which it was).
    unsure_landed,
  };
  // A later placement by the same process: written only if nobody wrote the key since this
  // channel last did. Throws cluster_error when the cluster did not answer (the write may have
  // landed: holds_one, or the next update, finds it so), and placement_refused when it refused
  // the update with the key unchanged, or no server took it (not stored). `over_unsure`: written
  // over an unsure update that landed (one the caller no longer keeps), instead of unsure_landed.
  update_result update(const placement_record& r, bool over_unsure = false);
  // Which of `written` the key holds as this channel writes it, if any (updates that threw may
  // have landed; at most one did); then later updates go on from there. Throws cluster_error.
  std::optional<std::size_t> holds_one(const std::vector<placement_record>& written);
  // A fault for tests (the engine's failpoint placement_ack_lost): the next update that goes
  // through is left as one whose acknowledgement never came (it throws, and the channel does not
  // know the revision it wrote).
  void lose_next_ack() { lose_next_ack_ = true; }

  // A standby: the placement of graph_hash written by the process that holds the engine's
  // lease. Waits while no process holds it, then up to `wait` from the first holder seen. None
  // when none came: the standby then computes the whole graph.
  std::optional<placement_record> await(const std::string& graph_hash,
                                        std::chrono::milliseconds wait);
  // The placement of graph_hash as the cluster has it now, if any. Throws cluster_error.
  std::optional<placement_record> read(const std::string& graph_hash);

 private:
  cluster_decl c_;
  std::unique_ptr<jetstream_link> link_;
  std::uint64_t revision_ = 0;  // of the key as this channel last wrote it
  // Bytes of the updates the cluster did not acknowledge since the last one it did.
  std::vector<std::string> unsure_;
  bool lose_next_ack_ = false;
};

}  // namespace shoal
