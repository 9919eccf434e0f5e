#pragma once
// msgpack_reader: decodes one MessagePack frame straight into a Value (from_msgpack's engine).
//
// msgpack-cxx builds an object tree in a zone and shoal then converted that tree into a Value:
// every scan of a replay was parsed twice and allocated twice, which took most of the
// journal reader's thread. This reader makes two passes over the bytes instead, neither
// allocating anything but the Value itself:
//   1. check(): the frame's structure, in byte order, with msgpack-cxx's rules and limits —
//      cut short (truncated), 0xc1 (not_msgpack), a length no frame of this size can hold
//      (truncated), containers nested deeper than max_depth (too_deep), bytes after the
//      object (trailing_bytes) — so a frame that is not MessagePack fails as it did;
//   2. read(): the Value, with from_msgpack's rules (msgpack_codec.hpp) in the order the
//      converter applied them: types, int64 range, finite doubles, unique string keys.
// tests/unit/test_msgpack_reader.cpp holds the old decoder and checks both agree on random
// and mutated frames: the same Value, or the same error kind at the same field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/msgpack_codec.hpp"

namespace shoal {

Value read_msgpack(std::string_view bytes, const decode_limits& limits);

// How an event record begins: a 4-key map whose first (sorted) key is "payload".
inline constexpr std::string_view event_frame_head("\x84\xa7payload", 9);

// A journal event's fields, read from the map shoal writes ({payload, seq, stream, ts}, in that
// order) without building the map around them: a replay decodes one per record. nullopt when
// the frame has any other shape (or is empty, or over the limit): decoded as a map, it then
// fails or succeeds exactly as it did. A frame that is not MessagePack throws as from_msgpack.
struct event_fields {
  Value payload;
  std::uint64_t seq = 0;
  std::int64_t ts = 0;
  std::string stream;
};
std::optional<event_fields> read_event_fields(std::string_view bytes, const decode_limits& limits);

}  // namespace shoal
