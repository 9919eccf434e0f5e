#pragma once
// cluster_checkpoint: an engine's last checkpoint, in the cluster — every node's state and the
// checkpoint's meta (its journal position and the strategy changes it belongs to), so that an
// engine started on an empty dir on another host restores its nodes from it and goes through
// the journal after it only, not from the journal's start. Key-value bucket
// <stream>_checkpoints: the checkpoint's bytes in chunks under max_payload ("<engine_id>.a.<n>"
// or "<engine_id>.b.<n>"), then "<engine_id>.head" naming the slot, the chunk count, the size
// and the SHA-256. A new checkpoint goes to the slot the head does not name, and the head last:
// a writer that dies midway leaves the previous checkpoint whole.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;

struct checkpoint_copy {
  std::uint64_t journal_pos = 0;
  std::string meta;                           // the dir's meta "checkpoint"
  std::map<std::string, std::string> states;  // NodeID hex → the node's checkpoint
};

std::string checkpoints_bucket(const cluster_decl& c);

// Writes the checkpoint (makes the bucket unless it exists). Throws cluster_error.
void put_cluster_checkpoint(jetstream_link& link, const cluster_decl& c, const checkpoint_copy& cp);

// The engine's last checkpoint in the cluster, or none. Throws cluster_error when the cluster
// does not answer, or when what it holds is damaged (a chunk missing, another size or hash).
std::optional<checkpoint_copy> get_cluster_checkpoint(jetstream_link& link, const cluster_decl& c);

}  // namespace shoal
