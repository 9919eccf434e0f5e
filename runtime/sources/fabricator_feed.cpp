#include "runtime/sources/fabricator_feed.hpp"

namespace shoal {

fabricator_feed::fabricator_feed(const std::string& source, const value_map& params,
                                 std::int64_t interval_ns)
    : gen_(params, interval_ns), scan_(source + ".scan"), ob_(source + ".ob") {}

bool fabricator_feed::emit_next(record_sink& sink) {
  fabricated_bucket b = gen_.next();
  bool fresh = sink.event(scan_, b.scan_ts, make_value(std::move(b.scan)), ++scan_index_);
  for (auto& [ts, book] : b.books)
    fresh |= sink.event(ob_, ts, make_value(std::move(book)), ++ob_index_);
  // The fabricator knows its bucket is complete: it closes the book stream itself.
  if (gen_.books()) fresh |= sink.watermark(ob_, b.watermark_ts);
  return fresh;
}

}  // namespace shoal
