#pragma once
// journal_record: one entry of the journal (design §7), in ingest order. It is the record's
// own MessagePack map, so a journal can be read with any msgpack library:
//   event      {payload, seq, stream, ts}               — exactly encode_event's bytes
//   watermark  {stream, ts}                             — exactly encode_watermark's bytes
//   rejected   {raw, rejected, stream, ts}              — bad input kept for inspection:
//              raw = the bytes as received, rejected = the reason; it never enters a window

#include <string>
#include <string_view>
#include <variant>

#include "messages/records.hpp"

namespace shoal {

struct Rejected {
  std::string stream;
  std::int64_t ts = 0;
  std::string raw;
  std::string reason;
};

using journal_record = std::variant<Event, Watermark, Rejected>;

std::string encode_rejected(const Rejected& r);
std::string encode_journal_record(const journal_record& r);
// Throws decode_error when the bytes are none of the three shapes.
journal_record decode_journal_record(std::string_view bytes);
const std::string& stream_of(const journal_record& r);

}  // namespace shoal
