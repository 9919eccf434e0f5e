#pragma once
// failpoints: faults a test injects into a real shoal process through the environment, the way
// FreeBSD's fail points or TiKV's fail-rs do, so that retry and dead-letter paths are exercised
// by the binary users run rather than by a mock:
//
//   SHOAL_FAILPOINTS="kernel_throw=NAME@BUCKET[*N];take_fail;..."
//
// kernel_throw: the node published as NAME throws (std::runtime_error "failpoint ...") when it
// computes the bucket starting at BUCKET (ns); with *N only the first N times in this process
// (a transient fault a retry survives), without it every time. Unset, nothing is looked at
// again after the first call.
// take_fail: the active process's take of a dead process's nodes while it runs
// (engine_take.cpp) fails before it joins the live graph, as when a store write fails.
// join_stall: a standby outside the placement never restarts to compute the nodes the placement
// gives it (engine_give.cpp), as one stuck would: it never says it published them.
// backfill_slow: the backfill of a handed node's outputs (engine_handover.cpp) pauses 250 ms after
// each batch of journal records and saves where it is after each (not every 30 s), so that a test
// can stop or kill the process while it runs and find a position saved.
// cost_scale=K: every node cost this process measures and reports (its member record, the
// placement's costs) is K times what it measured, as if its kernels were K times slower: a test
// can make one process the costliest for [cluster] rebalance_above.
// stop_unread: a placed process's clean stop writes its last member record with what the record
// two renewals before said it published, not everything (engine.cpp), yet puts its stop's
// checkpoint in the cluster: as when the active process never read the stop's record. Its heir
// finds that checkpoint past the seqs handed to it and must take the one before it.
// placement_ack_lost: the active process's first update of the placement (a give, a move, a
// loss) goes through, and is taken for one whose acknowledgement never came (engine.cpp,
// update_placement, placement_channel::lose_next_ack): the standbys act on it while the active
// process does not know it landed.
//
// A bad SHOAL_FAILPOINTS makes every runner FAILED with the message (a test must not pass
// because its fault never fired).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shoal {

struct kernel_fault {
  std::string name;
  std::int64_t bucket = 0;
  std::atomic<std::int64_t> remaining{-1};  // throws left; -1: always
  // True when computing `bucket` must throw now (and counts the throw).
  bool hit(std::int64_t b);
};

// The faults a SHOAL_FAILPOINTS text sets; throws std::invalid_argument naming what it cannot read.
std::vector<std::shared_ptr<kernel_fault>> parse_failpoints(const std::string& text);

// The flags (take_fail, join_stall, backfill_slow, stop_unread, placement_ack_lost) a
// SHOAL_FAILPOINTS text sets;
// throws as parse_failpoints.
std::vector<std::string> parse_failpoint_flags(const std::string& text);

// Whether SHOAL_FAILPOINTS sets flag `name`. Throws std::invalid_argument for a SHOAL_FAILPOINTS
// it cannot read.
bool failpoint_flag(const std::string& name);

// K of cost_scale=K, 1 without it. Throws std::invalid_argument for a SHOAL_FAILPOINTS it cannot
// read.
std::int64_t failpoint_cost_scale();

// The faults set for a node published under one of `names`, none in the usual case. Throws
// std::invalid_argument for a SHOAL_FAILPOINTS it cannot read.
std::vector<std::shared_ptr<kernel_fault>> kernel_faults_for(const std::vector<std::string>& names);

}  // namespace shoal
