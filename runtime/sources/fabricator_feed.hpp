#pragma once
// fabricator_feed: a fabricator source's streams and how each fabricated bucket becomes records
// — the scan, the order books (keyed by asset) and the watermark that closes the book stream.
// One implementation for the live source and for `shoal fabricate`, so both write the same
// journal.

#include <memory>
#include <string>

#include "actors/fabricator/fabricator.hpp"
#include "runtime/sources/record_sink.hpp"

namespace shoal {

class fabricator_feed {
 public:
  // source: the source's name (streams are <source>.scan and <source>.ob).
  fabricator_feed(const std::string& source, const value_map& params, std::int64_t interval_ns);

  // Emits the next bucket into sink. Returns true when the sink took any record of it (false:
  // the whole bucket was already journaled, after a restart).
  bool emit_next(record_sink& sink);
  std::int64_t buckets_made() const { return gen_.buckets_made(); }
  bool books() const { return gen_.books(); }
  const std::string& scan_stream() const { return scan_; }
  const std::string& ob_stream() const { return ob_; }

 private:
  fabricator gen_;
  std::string scan_, ob_;
  std::uint64_t scan_index_ = 0, ob_index_ = 0;
};

}  // namespace shoal
