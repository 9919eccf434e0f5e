#pragma once
// journal_record: one entry of the journal (design §7), in ingest order. It is the record's
// own MessagePack map, so a journal can be read with any msgpack library:
//   event      {payload, seq, stream, ts}               — exactly encode_event's bytes
//   watermark  {stream, ts}                             — exactly encode_watermark's bytes
//   rejected   {raw, rejected, stream, ts}              — bad input kept for inspection:
//              raw = the bytes as received, rejected = the reason; it never enters a window.
//              A large frame keeps only its first bytes: {raw, raw_bytes, raw_sha256, …} then
//              gives the whole frame's size and SHA-256 (hex).
//   control    {args, control, stream}                  — a change to how the engine runs, at
//              its ingest position, so replay applies it at the same point: control names it
//              (time_mode, submit, remove, restart), stream is the stream it concerns or "".

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
  std::uint64_t raw_bytes = 0;  // the whole frame's size when raw is truncated, else 0
  std::string raw_sha256;       // the whole frame's SHA-256 (hex) when raw is truncated
};

struct Control {
  std::string kind;  // time_mode | submit | remove | restart
  std::string stream;
  value_map args;
};

using journal_record = std::variant<Event, Watermark, Rejected, Control>;

std::string encode_rejected(const Rejected& r);
std::string encode_control(const Control& c);
std::string encode_journal_record(const journal_record& r);
// Throws decode_error when the bytes are none of the three shapes.
journal_record decode_journal_record(std::string_view bytes);
const std::string& stream_of(const journal_record& r);
// Whether encoded journal bytes are a control record, from their first key alone ({args, ...}).
bool is_control_record(std::string_view bytes);
// A boolean argument of a control record (a restart's "fresh"); false when absent.
bool control_flag(const Control& c, const char* key);

}  // namespace shoal
