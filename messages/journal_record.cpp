#include "messages/journal_record.hpp"

#include "messages/decode_error.hpp"
#include "messages/msgpack_reader.hpp"

namespace shoal {

std::string encode_rejected(const Rejected& r) {
  value_map m{{"raw", Value(r.raw)},
              {"rejected", Value(r.reason)},
              {"stream", Value(r.stream)},
              {"ts", Value(r.ts)}};
  if (!r.raw_sha256.empty()) {
    m["raw_bytes"] = Value(static_cast<std::int64_t>(r.raw_bytes));
    m["raw_sha256"] = Value(r.raw_sha256);
  }
  return to_msgpack(Value(std::move(m)));
}

std::string encode_control(const Control& c) {
  return to_msgpack(Value(
      value_map{{"args", Value(c.args)}, {"control", Value(c.kind)}, {"stream", Value(c.stream)}}));
}

std::string encode_journal_record(const journal_record& r) {
  if (const auto* e = std::get_if<Event>(&r)) return encode_event(*e);
  if (const auto* w = std::get_if<Watermark>(&r)) return encode_watermark(*w);
  if (const auto* c = std::get_if<Control>(&r)) return encode_control(*c);
  return encode_rejected(std::get<Rejected>(r));
}

journal_record decode_journal_record(std::string_view bytes) {
  // Journal records were validated at ingest; the limits only guard against a damaged file.
  decode_limits limits;
  limits.max_bytes = std::size_t{64} << 20;
  limits.allow_non_finite = true;
  // Keys are sorted, so the first key names the shape: a 4-key map starting with "payload" is
  // an event, a 2-key map is a watermark. Decide from the header instead of decoding twice.
  if (bytes.substr(0, event_frame_head.size()) == event_frame_head)
    return decode_event(bytes, limits);
  if (bytes.size() > 1 && static_cast<unsigned char>(bytes[0]) == 0x82)
    return decode_watermark(bytes, limits);
  Value v = from_msgpack(bytes, limits);
  if (!v.is_map()) throw decode_error(error_kind::wrong_type, "", "journal record is not a map");
  if (v.find("payload")) return decode_event(bytes, limits);
  if (const Value* reason = v.find("rejected")) {
    Rejected r;
    const Value* stream = v.find("stream");
    const Value* ts = v.find("ts");
    const Value* raw = v.find("raw");
    if (!stream || !stream->is_string() || !ts || !ts->is_int() || !reason->is_string())
      throw decode_error(error_kind::wrong_type, "", "malformed rejected record");
    r.stream = stream->as_string();
    r.ts = ts->as_int();
    r.reason = reason->as_string();
    if (raw && raw->is_string()) r.raw = raw->as_string();
    const Value* size = v.find("raw_bytes");
    const Value* hash = v.find("raw_sha256");
    if (size && size->is_int() && hash && hash->is_string()) {
      r.raw_bytes = static_cast<std::uint64_t>(size->as_int());
      r.raw_sha256 = hash->as_string();
    }
    return r;
  }
  if (const Value* kind = v.find("control")) {
    const Value* stream = v.find("stream");
    const Value* args = v.find("args");
    if (!kind->is_string() || !stream || !stream->is_string() || !args || !args->is_map())
      throw decode_error(error_kind::wrong_type, "", "malformed control record");
    return Control{kind->as_string(), stream->as_string(), args->as_map()};
  }
  return decode_watermark(bytes, limits);
}

const std::string& stream_of(const journal_record& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.stream; }, r);
}

bool is_control_record(std::string_view bytes) {
  // Keys are sorted: a control record is the 3-key map whose first key is "args".
  static constexpr char head[] = {'\x83', '\xa4', 'a', 'r', 'g', 's'};
  return bytes.substr(0, sizeof head) == std::string_view(head, sizeof head);
}

bool control_flag(const Control& c, const char* key) {
  const auto f = c.args.find(key);
  return f != c.args.end() && f->second.is_bool() && f->second.as_bool();
}

}  // namespace shoal
