#pragma once
// window_cache: the per-node input cache of design §5, as plain C++ (no CAF, no ZeroMQ) so that
// kernels, replay and tests can drive it without an actor runtime.
//
// For every input port it buckets raw records on event time, keeps at most one *open* bucket
// (the bucket of the latest accepted record), a set of closed-but-unprocessed buckets
// ("pending") and the processed history ring C[u, ·, p, {t, v}] (a slot_ring of `period`
// slots). next_ready() releases buckets in increasing order once every port has closed them,
// applies `on_missing` and reports whether the node should fire. Results depend only on the
// per-port record order and on close/watermark calls, never on wall clock — the replay parity
// guarantee rests on that.
//
// Decisions where the design is silent:
// - Keyed ports: the key field's value must be a string (used as is) or an int (converted to
//   decimal, e.g. 7 -> "7"); anything else, a missing field or a non-map payload is
//   `missing_key`. The closed bucket value is a Value map key -> payload, in std::string order
//   ("10" sorts before "9").
// - Every accepted record for bucket b closes b - interval on its port, the first one too:
//   "a later event closes everything before it", and records for earlier buckets would be
//   late anyway (earlier than the open bucket). It lets other ports' earlier buckets proceed.
// - Offer checks run in this order: duplicate seq, late bucket, missing key. Only accepted
//   records advance the port's last seq.
// - Bucket INT64_MIN doubles as the "nothing closed" sentinel, so a record whose bucket is
//   INT64_MIN is counted late; bucket_of throws std::out_of_range when the floor bucket of a
//   timestamp is below INT64_MIN. Neither matters for real timestamps (year 1677).
// - Once failed (on_missing=fail), offers/closes are still recorded but next_ready() returns
//   nullopt forever: a FAILED node never fires again.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/core/slot_ring.hpp"
#include "messages/value.hpp"
#include "runtime/window/on_missing.hpp"

namespace shoal {

// Floor bucketing, also for negative ts: bucket_of(-1, 10) == -10.
// Throws std::invalid_argument if interval_ns <= 0, std::out_of_range if the bucket is below
// INT64_MIN.
std::int64_t bucket_of(std::int64_t ts, std::int64_t interval_ns);

struct port_spec {
  std::string name;
  bool one_per_bucket = false;           // a write closes its bucket at once (node outputs, scans)
  std::optional<std::string> key_field;  // keyed stream: bucket value = map key -> last payload
  // An optional port may lack a value in a bucket without blocking it (no skip, fail or
  // ffill) and does not count for warm-up; the kernel sees that its ring's newest slot is
  // older than the bucket. Used where a kernel has its own neutral value (the sizing mirror).
  bool optional = false;
};

enum class offer_status { accepted, duplicate, late, missing_key };
enum class fire_status { fire, warming, skipped, failed };

struct ready_bucket {
  std::int64_t bucket;
  fire_status status;
  std::string reason;  // empty for fire/warming; names the missing port(s) for skipped/failed
};

struct window_counters {
  std::uint64_t accepted = 0, duplicates = 0, late_dropped = 0, missing_key = 0;
  std::uint64_t missing = 0;  // (port, bucket) pairs with no value when the bucket was processed
  std::uint64_t skipped = 0, ffilled = 0, fired = 0, warming = 0;
};

class window_cache {
 public:
  // Throws std::invalid_argument if interval_ns <= 0, period == 0 or two ports share a name.
  window_cache(std::vector<port_spec> ports, std::int64_t interval_ns, std::size_t period,
               on_missing policy);

  // A raw record (stream seq, event ts) for a port. Bucketed with bucket_of.
  // Throws std::out_of_range for a bad port, std::invalid_argument for a null payload.
  offer_status offer(std::size_t port, std::uint64_t seq, std::int64_t ts, value_ptr v);
  // The port will see nothing more at or before `bucket` (its upstream emitted or passed it).
  // An unaligned value is floored to its bucket first (same set of closed buckets).
  void close_through(std::size_t port, std::int64_t bucket);
  // Watermark: no more events at or before ts -> closes every bucket b with
  // b + interval - 1 <= ts.
  void watermark(std::size_t port, std::int64_t ts);
  // Processes the next bucket that every port has closed and at least one port has a value
  // for, in increasing bucket order; nullopt when none is ready (or the cache has failed).
  std::optional<ready_bucket> next_ready();

  // Min over ports of their closed-through bucket; INT64_MIN when none (or no ports).
  std::int64_t closed_through() const;
  std::int64_t closed_through(std::size_t port) const;
  // The bucket currently open on a port (the latest accepted record's), if any.
  std::optional<std::int64_t> open_bucket(std::size_t port) const;
  // Closed but not yet processed buckets on a port.
  std::size_t pending_count(std::size_t port) const;
  // Last accepted stream seq of a port; nullopt before the first accepted record.
  std::optional<std::uint64_t> last_seq(std::size_t port) const;

  const slot_ring& ring(std::size_t port) const;
  std::size_t port_count() const { return ports_.size(); }
  std::size_t period() const { return period_; }
  std::int64_t interval() const { return interval_; }
  on_missing policy() const { return policy_; }
  const std::vector<port_spec>& ports() const { return specs_; }
  const window_counters& counters() const { return counters_; }

  // Rings + pending + open buckets, payloads included (shoal::resident_bytes(Value)) plus
  // approximate container overhead. Each distinct payload pointer is counted once (ffill and
  // fan-out share payloads, counting per reference would overstate memory). Cost is linear in
  // the resident values: meant for metrics sampling, not for every record.
  std::size_t resident_bytes() const;

  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  // Ready buckets flow again after an on_missing=fail failure (the failed bucket stays consumed).
  void clear_failure();
  // The port's next record is accepted whatever its seq (its upstream numbered a warm-up
  // differently from what follows).
  void forget_seq(std::size_t port);

  // Checkpoint: everything the cache holds (rings, pending and open buckets, closed-through,
  // last seqs, counters) as a Value, and back. restore() expects the same ports and period.
  Value save() const;
  void restore(const Value& saved);

 private:
  struct port_state {
    explicit port_state(std::size_t period) : ring(period) {}
    slot_ring ring;                                            // processed history, time order
    std::map<std::int64_t, value_ptr> pending;                 // closed, not yet processed
    std::optional<std::int64_t> open;                          // at most one open bucket
    value_ptr open_value;                                      // unkeyed ports
    std::map<std::string, value_ptr, std::less<>> open_keyed;  // keyed ports: key -> last
    std::int64_t closed_through = INT64_MIN;
    std::optional<std::uint64_t> last_seq;
  };

  port_state& state(std::size_t port);
  const port_state& state(std::size_t port) const;
  // Moves the open bucket (if any) to pending.
  void close_open(std::size_t port);
  // Raises closed-through to `bucket` (never lowers it) and closes the open bucket if covered.
  void raise_closed(std::size_t port, std::int64_t bucket);

  std::vector<port_spec> specs_;
  std::vector<port_state> ports_;
  std::int64_t interval_;
  std::size_t period_;
  on_missing policy_;
  window_counters counters_;
  bool failed_ = false;
  std::string failure_;
};

}  // namespace shoal
