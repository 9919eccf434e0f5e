#pragma once
// The three records that cross process boundaries (design §3), and their wire codecs.
// Each record is one MessagePack map with its keys in sorted order — exactly the bytes
// to_msgpack gives for the equivalent Value map — so a Python or JS client reads it with
// a plain msgpack library, and equal records are equal bytes.
//
//   Event     {payload, seq, stream, ts}
//   Watermark {stream, ts}  ({idle, stream, ts} when an idle timeout made it)
//   Output    {bucket, id, node, seq, value}
//
// Decoding applies decode_limits to the whole frame (so payload errors read
// "payload.prices[3]"), then checks each field: missing_field or wrong_type naming the key;
// seq must be an int >= 0 (negative otherwise). Keys this version does not know are
// ignored, so a newer writer can add fields without breaking older readers.

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/msgpack_codec.hpp"
#include "messages/value.hpp"

namespace shoal {

// An input record. seq is per stream, strictly increasing, assigned at ingest;
// ts is event time in ns since the Unix epoch (UTC).
struct Event {
  std::string stream;
  std::uint64_t seq = 0;
  std::int64_t ts = 0;
  value_ptr payload;  // shared, immutable: fan-out to many actors copies no payload
};

// "No more events of `stream` at or before ts." idle: the source journaled it because the stream
// was quiet for its idle_timeout (encoded as {idle: true, stream, ts}; absent otherwise).
struct Watermark {
  std::string stream;
  std::int64_t ts = 0;
  bool idle = false;
};

// What a node emits: node name, NodeID hex, event-time bucket (ns), per-node seq from 1.
struct Output {
  std::string node;
  std::string id;
  std::int64_t bucket = 0;
  std::uint64_t seq = 0;
  value_ptr value;  // nil is a legitimate value: a kernel that cannot compute emits nil
};

// Encoders write the map directly (no Value copy of the payload). A null value_ptr encodes
// as nil. A seq above INT64_MAX throws std::out_of_range: the decoder, like every Value,
// holds int64, so such a frame could never be read back.
std::string encode_event(const Event& e);
std::string encode_watermark(const Watermark& w);
std::string encode_output(const Output& o);
// The same bytes from the fields, for a node encoding its own outputs without copying its name
// and NodeID into an Output first.
std::string encode_output(std::string_view node, std::string_view id, std::int64_t bucket,
                          std::uint64_t seq, const value_ptr& value);
// encode_output for the outputs of one node under one name: the bytes that do not change from
// one output to the next (its NodeID and name, with their keys) are written once, and each
// output copies them in one piece. The same bytes as encode_output.
class output_encoder {
 public:
  output_encoder(std::string_view node, std::string_view id);
  std::string encode(std::int64_t bucket, std::uint64_t seq, const value_ptr& value) const;
  // The same bytes, appended to out (a buffer that holds other outputs before them).
  void append(std::string& out, std::int64_t bucket, std::uint64_t seq,
              const value_ptr& value) const;

 private:
  std::string middle_;  // "id": id, "node": node, "seq" (the key whose value follows)
};

// Event.payload must be present and not nil (an input without a payload is malformed);
// Output.value must be present and may be nil. Decoded value_ptrs are never null.
Event decode_event(std::string_view bytes, const decode_limits& limits = {});
Watermark decode_watermark(std::string_view bytes, const decode_limits& limits = {});
Output decode_output(std::string_view bytes, const decode_limits& limits = {});

}  // namespace shoal
