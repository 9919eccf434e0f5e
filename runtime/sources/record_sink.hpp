#pragma once
// record_sink: where a source's records go. Live, it is the ingest gate (which assigns seqs,
// journals and forwards); for `shoal fabricate`, a journal written directly. Sources that
// regenerate their input from the start (fabricator, journal feed) pass their own 1-based index
// per stream, so a sink that already holds a record can skip it. A live source passes when it
// received the record (stage_latency::now_ns()), for the latency metrics only.

#include <cstdint>
#include <optional>
#include <string>

#include "messages/value.hpp"

namespace shoal {

class record_sink {
 public:
  virtual ~record_sink() = default;
  // Returns false when the record was not taken (already journaled, or no such stream).
  virtual bool event(const std::string& stream, std::int64_t ts, value_ptr payload,
                     std::optional<std::uint64_t> index = std::nullopt,
                     std::int64_t received_ns = 0) = 0;
  virtual bool watermark(const std::string& stream, std::int64_t ts) = 0;
};

}  // namespace shoal
