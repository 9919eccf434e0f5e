#pragma once
// node_placement: which process of an engine publishes each node of its graph (issue 14,
// placement by NodeID). Pure: no NATS, no actors; runtime/cluster/placement_exchange.* moves it
// through the cluster.
//
// Edges between processes do not travel through the cluster yet, so a process computes the nodes
// placed on it *and every node upstream of them* from the shared journal, and publishes only its
// own. A node fires on event time and closed buckets only, so each copy upstream gives the bytes
// the single-process engine gives. The placement therefore balances what each process computes,
// the upstream copies included.

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

struct placement_node {
  std::string id;                     // NodeID
  double cost = 1;                    // what computing it costs, relative to the others
  std::vector<std::size_t> upstream;  // its inputs' nodes: indexes of earlier entries
  bool stream = false;                // a source stream: every process has it, never placed
};

using node_placement = std::map<std::string, std::string>;  // NodeID → process (instance)

// NodeID → what computing it was measured to cost: kernel seconds per input event of the
// engine's streams (every process reads the same events), as the process publishing it measured.
using node_costs = std::map<std::string, double>;

// Places every node that is not a stream on one of `members` (instances; at least one).
// A node whose process in `previous` is still a member stays there. The others go one by one,
// the costliest (with everything upstream) first, each to the member whose computed cost grows
// the least with it; ties go to the member publishing fewer nodes, then to the first by name.
// Members in `closed` keep what `previous` gave them and take nothing more (a running process,
// or a data dir whose checkpoint holds only its nodes); a node that only closed members could
// take throws std::runtime_error naming it. The same arguments give the same placement,
// whatever the order of `members`.
node_placement place_nodes(const std::vector<placement_node>& nodes,
                           std::vector<std::string> members, const node_placement& previous = {},
                           const std::vector<std::string>& closed = {});

// The nodes `member` computes under `p`: its own, everything upstream of them, and the streams.
std::vector<bool> computed_by(const std::vector<placement_node>& nodes, const node_placement& p,
                              const std::string& member);

// A placement as the cluster keeps it: who placed it, for which graph, on which processes.
struct placement_record {
  std::string holder;      // the lease of the active process that placed them, as it wrote it
  std::string graph_hash;  // the graph placed
  std::vector<std::string> members;
  node_placement nodes;
  // Nodes moved off a process that died, each with the last seq it was known to have published:
  // their new process publishes the outputs after it (docs/cluster.md, "When a placed process
  // dies"). Kept by later placements while the node stays where it went.
  std::map<std::string, std::uint64_t> handed;
  // The process each of them moved off (as `handed`, kept while the node stays where it went):
  // its checkpoint in the cluster lets the heir start the node from there instead of rebuilding
  // it from the journal's start.
  std::map<std::string, std::string> handed_from;
  // What its nodes were measured to cost when it was written (the next placement places by
  // them: a node that moves goes where it adds the least measured cost).
  node_costs costs;
};

// NodeID → the last seq a process said it had published of it.
using member_published = std::map<std::string, std::uint64_t>;

// Adds what `member` said it published to `reports` (by member), keeping the larger seq of each
// node: reports of one member do not go back (an away key and a new one may share its name).
void note_published(std::map<std::string, member_published>& reports, const std::string& member,
                    const member_published& said);

// The placement once the members in `lost` are gone (their heartbeats expired): their nodes go
// to the other members but those in `closed` (place_nodes), everything else stays. `published`
// (by member) holds what each had last said it published; `handed` is hand_over's. Throws
// std::runtime_error when a node has nowhere to go.
placement_record place_after_loss(const std::vector<placement_node>& nodes,
                                  const placement_record& r, const std::vector<std::string>& lost,
                                  const std::map<std::string, member_published>& published,
                                  const std::vector<std::string>& closed);

// The placement once `joiner`, a standby of the graph outside `r`, joins it: a member now, given
// nodes of the others, no member taking any (a process given nodes restarts to compute them; one
// giving some does not, it stops publishing them). The costliest member (what it computes, with
// the upstream copies) gives first, its costliest nodes first, each while the joiner stays no
// costlier than it would be without the node; every member keeps a node. `published` (by member):
// the last seq each said it published of its nodes, the seq handed with those that move. The
// same arguments give the same placement. The caller gives nothing when no node moves.
placement_record place_joining(const std::vector<placement_node>& nodes, const placement_record& r,
                               const std::string& joiner,
                               const std::map<std::string, member_published>& published);

// One node to move so that the process computing the most computes less ([cluster]
// rebalance_above): the costliest member of `r` (what it computes, with the upstream copies;
// the name breaks ties) gives one of its nodes to one of `receivers` (members of `r` that can
// take one: never the active process, which takes nodes only when no standby can) that computes
// less than 1/`above` of it. Of those moves, the one that leaves the costlier of the two lowest
// (then the receiver computing less, then the NodeID, then the receiver's name), and only when that
// is at least `min_gain` (a fraction) below what the costliest computes now: a move must pay for
// the receiver's restart. Every member keeps a node; none of `fixed` (NodeIDs that cannot move
// now: a node still being given, ...) moves. The same arguments give the same move.
struct rebalance_move {
  std::string id, from, to;
  double from_cost = 0, to_cost = 0;  // what each computes now
  double after = 0;                   // the costlier of the two after the move
};
std::optional<rebalance_move> place_rebalance(const std::vector<placement_node>& nodes,
                                              const placement_record& r,
                                              const std::vector<std::string>& receivers,
                                              double above, double min_gain = 0.1,
                                              const std::set<std::string>& fixed = {});

// The hand-overs of a placement `next` made from `previous`: those of nodes still where they
// went (their heirs may not have read them yet), and for each node moving off its process, what
// that process last said it published of it (`reported`, by member), at least what was handed to
// it before; 0 when nobody knows (the node's whole history is published again).
std::map<std::string, std::uint64_t> hand_over(
    const placement_record& previous, const node_placement& next,
    const std::map<std::string, member_published>& reported);
// The process each hand-over of `next` came from: for a node moving off its process, that one;
// for a hand-over kept from `previous` (the node still where it went), the one it named.
std::map<std::string, std::string> moved_from(const placement_record& previous,
                                              const node_placement& next);
// Both of the above into `next`: its handed seqs and where each came from.
void record_hand_overs(placement_record& next, const placement_record& previous,
                       const std::map<std::string, member_published>& reported);
// The numbers of a JSON object of costs by NodeID; what is not a finite number is left out (a
// record of a later version, or a damaged one, costs a node its cost, not its record).
node_costs costs_of(const nlohmann::json& j);
// JSON. Without its costs when they would take it past max_placement_with_costs_bytes.
std::string encode_placement(const placement_record& r);
inline constexpr std::size_t max_placement_with_costs_bytes = 512 * 1024;
// Throws std::runtime_error naming what is wrong.
placement_record decode_placement(std::string_view json);

}  // namespace shoal
