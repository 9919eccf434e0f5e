#include "messages/records.hpp"

#include <limits>
#include <stdexcept>

#include "messages/field_reader.hpp"
#include "messages/msgpack_reader.hpp"
#include "messages/msgpack_writer.hpp"

namespace shoal {

namespace {

using detail::msgpack_writer;

// Writers go through the same msgpack_writer calls as append_msgpack, so a record's bytes
// equal to_msgpack of the equivalent Value map, without copying the payload into one.
void put_seq(msgpack_writer& w, std::uint64_t seq) {
  if (seq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw std::out_of_range("shoal: seq " + std::to_string(seq) + " exceeds int64");
  w.int64(static_cast<std::int64_t>(seq));
}

void put_value(msgpack_writer& w, const value_ptr& v) {
  if (v) {
    append_msgpack(w.out(), *v);
  } else {
    w.nil();
  }
}

// The frame as a map we may move fields out of.
value_map decode_map(std::string_view bytes, const decode_limits& limits) {
  Value v = from_msgpack(bytes, limits);
  if (!v.is_map())
    throw decode_error(error_kind::wrong_type, "",
                       std::string("record must be a map, got ") + v.type_name());
  return std::move(v.as_map());
}

value_ptr take_value(value_map& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end())
    throw decode_error(error_kind::missing_field, std::string(key), "required field is missing");
  return make_value(std::move(it->second));
}

}  // namespace

std::string encode_event(const Event& e) {
  std::string out;
  out.reserve(1 + 25 + 9 + 9 + 5 + e.stream.size() + (e.payload ? msgpack_size(*e.payload) : 1));
  msgpack_writer w(out);
  w.map(4);
  w.str("payload");
  put_value(w, e.payload);
  w.str("seq");
  put_seq(w, e.seq);
  w.str("stream");
  w.str(e.stream);
  w.str("ts");
  w.int64(e.ts);
  return out;
}

std::string encode_watermark(const Watermark& w) {
  std::string out;
  msgpack_writer mw(out);
  mw.map(w.idle ? 3 : 2);
  if (w.idle) {
    mw.str("idle");
    mw.boolean(true);
  }
  mw.str("stream");
  mw.str(w.stream);
  mw.str("ts");
  mw.int64(w.ts);
  return out;
}

std::string encode_output(const Output& o) {
  return encode_output(o.node, o.id, o.bucket, o.seq, o.value);
}

std::string encode_output(std::string_view node, std::string_view id, std::int64_t bucket,
                          std::uint64_t seq, const value_ptr& value) {
  std::string out;
  // One allocation: the five keys and their values (a seq or bucket takes at most 9 bytes).
  out.reserve(1 + 30 + 9 + 9 + id.size() + 5 + node.size() + 5 +
              (value ? msgpack_size(*value) : 1));
  msgpack_writer w(out);
  w.map(5);
  w.str("bucket");
  w.int64(bucket);
  w.str("id");
  w.str(id);
  w.str("node");
  w.str(node);
  w.str("seq");
  put_seq(w, seq);
  w.str("value");
  put_value(w, value);
  return out;
}

output_encoder::output_encoder(std::string_view node, std::string_view id) {
  msgpack_writer w(middle_);
  w.str("id");
  w.str(id);
  w.str("node");
  w.str(node);
  w.str("seq");
}

std::string output_encoder::encode(std::int64_t bucket, std::uint64_t seq,
                                   const value_ptr& value) const {
  std::string out;
  out.reserve(1 + 7 + 9 + middle_.size() + 9 + 6 + (value ? msgpack_size(*value) : 1));
  append(out, bucket, seq, value);
  return out;
}

void output_encoder::append(std::string& out, std::int64_t bucket, std::uint64_t seq,
                            const value_ptr& value) const {
  msgpack_writer w(out);
  w.map(5);
  w.str("bucket");
  w.int64(bucket);
  w.write(middle_.data(), middle_.size());
  put_seq(w, seq);
  w.str("value");
  put_value(w, value);
}

Event decode_event(std::string_view bytes, const decode_limits& limits) {
  if (auto f = read_event_fields(bytes, limits); f && !f->payload.is_nil()) {
    Event e;
    e.stream = std::move(f->stream);
    e.seq = f->seq;
    e.ts = f->ts;
    e.payload = make_value(std::move(f->payload));
    return e;
  }
  value_map m = decode_map(bytes, limits);
  Event e;
  e.stream = require_string(require_field(m, "stream"), "stream");
  e.seq = static_cast<std::uint64_t>(require_non_negative_int(require_field(m, "seq"), "seq"));
  e.ts = require_int(require_field(m, "ts"), "ts");
  e.payload = take_value(m, "payload");
  if (e.payload->is_nil())
    throw decode_error(error_kind::wrong_type, "payload", "expected a value, got nil");
  return e;
}

Watermark decode_watermark(std::string_view bytes, const decode_limits& limits) {
  const value_map m = decode_map(bytes, limits);
  Watermark w;
  w.stream = require_string(require_field(m, "stream"), "stream");
  w.ts = require_int(require_field(m, "ts"), "ts");
  auto idle = m.find("idle");
  w.idle = idle != m.end() && idle->second.is_bool() && idle->second.as_bool();
  return w;
}

Output decode_output(std::string_view bytes, const decode_limits& limits) {
  value_map m = decode_map(bytes, limits);
  Output o;
  o.bucket = require_int(require_field(m, "bucket"), "bucket");
  o.id = require_string(require_field(m, "id"), "id");
  o.node = require_string(require_field(m, "node"), "node");
  o.seq = static_cast<std::uint64_t>(require_non_negative_int(require_field(m, "seq"), "seq"));
  o.value = take_value(m, "value");
  return o;
}

}  // namespace shoal
