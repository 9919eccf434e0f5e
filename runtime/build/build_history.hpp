#pragma once
// build_history: `shoal build` (design §11, decisions "Build mode's action key"). A graph's
// outputs over a data dir's recorded history, computed like a build system: history is cut into
// event-time segments, and each (node, segment) is an action keyed by the node's own definition,
// the content digests of its inputs in that segment and the action key of its previous segment
// (which fixes the state it starts with). A key already in the ledger is not computed again:
// the same NodeID keeps its outputs (DONE), another NodeID's outputs with that key are copied
// under the new id with renumbered seqs (REUSED) — so an upstream change that leaves the
// upstream's outputs byte-identical stops there. A source stream without outputs in a closed
// segment makes that segment IMPOSSIBLE for every node below it; in the open (last) segment it
// is BLOCKED; a segment after one that is not built is BLOCKED (continuity).
//
// A node that has to run is computed from its upstreams' stored outputs (never from the
// journal), from its first segment with a fresh window, by the same node_runner the engine
// uses, so its outputs are the ones a replay of the whole graph would store.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/graph/plan.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

enum class segment_status { done, reused, run, pending, failed, dead, impossible, blocked };
const char* to_string(segment_status s);

class build_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct build_options {
  std::int64_t segment_ns = 86'400'000'000'000;  // 1 day
  bool dry_run = false;                          // report only: compute and write nothing
  int retries = 2;          // a segment whose kernel throws is tried 1 + retries times, then DEAD
  bool retry_dead = false;  // try DEAD segments (ledgered by an earlier build) again
};

struct node_build {
  std::string name, id, kind;
  std::vector<segment_status> status;  // per segment
  std::vector<std::string> why;        // per segment, "" when there is nothing to say
  std::uint64_t outputs_written = 0;
};

struct build_report {
  std::int64_t segment_ns = 0;
  std::int64_t first_segment = 0;  // segment k covers [k * segment_ns, (k + 1) * segment_ns)
  std::size_t segments = 0;        // the last one is open: data may still arrive
  std::vector<node_build> nodes;   // in the graph's topological order
  double seconds = 0;
  bool dry_run = false;
  // Kind -> the behaviour id of its results (kinds_meta.hpp), for meta kinds after the build.
  std::map<std::string, std::string> behaviour;
  std::vector<std::string> notes;  // what the report says besides the table (code changes)
  // Nothing IMPOSSIBLE, FAILED, DEAD or BLOCKED: every node is built through the last segment.
  bool complete() const;
  std::string text() const;
  nlohmann::json json() const;
};

// db: the data dir (read-write unless o.dry_run); writer: its writer, null for a dry run.
// recorded: the graph the dir's outputs were made with (meta config), ledgered first so its
// results can be reused. Throws build_error when the dir cannot be built (the message says why).
build_report build_history(const store& db, store_writer* writer, const plan& recorded,
                           std::shared_ptr<const plan> target, const build_options& o);

}  // namespace shoal
