#pragma once
// explain: provenance of one stored output (provenance issue). The output, then per input port
// the upstream outputs its window read (period buckets back), recursively, down to the journal
// events each source-stream bucket was made of; then the output recomputed from the stretch of
// journal it depends on and compared byte for byte with the stored one. `shoal explain DIR` and
// the admin `explain` of a running engine both answer from here.
//
// Journal events are found by event time, not by a scan of the whole journal: a binary search
// over ingest seqs for the first record at or after the bucket (less a margin of four intervals
// and the source's allowed lateness), then a short forward read. It relies on records arriving
// in roughly event-time order, as a live feed's do; an event later than that margin is not
// listed.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

class explainer {
 public:
  explainer(const store& s, const config& cfg, const plan& g);

  // The node's stored output at bucket, and what it read, `depth` levels down (-1: all).
  nlohmann::json node_at(std::size_t i, std::int64_t bucket, int depth);
  // The journal events of a source stream whose event time falls in the bucket.
  nlohmann::json journal_events(const plan_node& n, std::int64_t bucket);
  // The journal margin around a bucket of node n: four intervals and its sources' lateness.
  std::int64_t margin(const plan_node& n) const;
  // The first ingest seq whose record's event time is at or after ts (records without one, the
  // runtime changes, take the time of the next record that has one); journal_last() + 1 when
  // there is none.
  std::uint64_t first_at_or_after(std::int64_t ts);

 private:
  const store& s_;
  const config& cfg_;
  const plan& g_;
  nlohmann::json kinds_ = nlohmann::json::object();
};

// Event time before a node's bucket whose input its output depends on: its own window (the
// history its kind needs for an exact state, kind_info::warm_history) plus, per input, the
// upstream's; nullopt when the state depends on all history (ema).
std::optional<std::int64_t> history_ns(const plan& g, std::size_t i);

// Replays the stretch of journal the output at bucket depends on, through g into a scratch dir,
// and compares the recomputed output with the stored bytes (at the stored seq: numbering is the
// one thing a partial replay cannot know). {journal_from, journal_through, whole_history,
// identical, recomputed_value (when not identical), seconds}.
nlohmann::json recompute(const store& s, const config& cfg, const plan& g, std::size_t i,
                         std::int64_t bucket, const std::string& stored_bytes, explainer& e);

// The whole answer for node i of g at bucket: node_at(i, bucket, depth) and, when the output is
// stored, "recomputed": recompute()'s answer, or {"skipped": why} when `why_not_recompute` is
// not empty. "stored": false when the node has no output at that bucket.
nlohmann::json explain_output(const store& s, const config& cfg, const plan& g, std::size_t i,
                              std::int64_t bucket, int depth,
                              const std::string& why_not_recompute = "");

}  // namespace shoal
