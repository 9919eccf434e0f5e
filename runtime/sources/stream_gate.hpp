#pragma once
// stream_gate: what happens to a payload between a source that receives it and ingest, for the
// zmq source and `shoal import` alike, so a recording imported from a file journals exactly what
// the same payloads fed live would: its event time by the stream's mode (the payload's `ts`, or
// the wall clock), bounded jumps (max_future), validation by the stream's schema, the
// `time_mode` record when an "auto" stream fixes its mode, rejection — journaled with the raw
// bytes, counted, each kind logged once — and scans missing between two scan_numbers, counted.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "messages/value.hpp"
#include "runtime/clock/clock.hpp"
#include "runtime/graph/source_decl.hpp"
#include "runtime/sources/source_progress.hpp"

namespace shoal {

class ingest;

// Payload validation by schema; "books" is a keyed order-book bucket as another engine
// publishes it: a map of asset → book, every book valid. Throws decode_error.
void validate_stream_payload(const std::string& schema, const Value& payload);

class stream_gate {
 public:
  // given_time: the streams carry another engine's outputs, whose bucket is the event time.
  // log_rejections: log the first rejection of each kind (a live source; an import lists its
  // rejected lines itself).
  stream_gate(const source_decl& decl, ingest& in, clock& clk, bool given_time = false,
              bool log_rejections = true);

  std::size_t size() const { return streams_.size(); }
  const std::string& name(std::size_t i) const { return names_[i]; }  // "<source>.<stream>"

  // A payload of stream i, timed by the stream's mode. Throws decode_error when it is not
  // acceptable: pass that to reject().
  void payload(std::size_t i, Value payload, std::int64_t received_ns = 0);
  // A payload whose event time the record gives (another engine's bucket). Throws decode_error.
  // index: the stream's seq given by the source (ingest::event), skipped when journaled already.
  void given(std::size_t i, Value payload, std::int64_t ts, std::int64_t received_ns = 0,
             std::optional<std::uint64_t> index = std::nullopt);
  // Journals raw as rejected on stream i (`kind: what`), at the stream's last event time.
  void reject(std::size_t i, std::string raw, const std::string& kind, const std::string& what);
  // Journals the watermarks of streams that have been idle for the source's idle_timeout.
  void idle_watermarks();

 private:
  void accept(std::size_t i, source_progress::timed t, Value payload, std::int64_t received_ns,
              std::optional<std::uint64_t> index = std::nullopt);

  std::string source_;
  std::vector<stream_decl> streams_;
  std::vector<std::string> names_;
  ingest& in_;
  clock& clock_;
  source_progress progress_;
  bool log_rejections_;
  std::set<std::string> logged_kinds_;  // log each kind of bad input once
  // Per stream of schema "scan": a feed numbers its scans; numbers skipped between two accepted
  // scans (rejected ones aside) were lost before they reached us — a ZeroMQ PUB drops what
  // exceeds its high-water mark without telling anyone: counted as gaps, the first logged.
  struct scan_count {
    bool numbered = false;                  // the stream's schema is "scan"
    std::optional<std::int64_t> last;       // the last accepted scan_number
    std::set<std::int64_t> rejected_since;  // numbers above it that arrived and were rejected
    bool gap_logged = false, renumbering_logged = false;  // the first of each is logged
  };
  // A jump larger than this is a feed that numbers anew, not that many scans lost.
  static constexpr std::uint64_t max_counted_gap = 1'000'000'000;
  std::vector<scan_count> scans_;  // one per stream
  void scan_rejected(std::size_t i, std::int64_t number);
  void scan_accepted(std::size_t i, std::int64_t number);
};

}  // namespace shoal
