#pragma once
// snapshot_request: what a late joiner asks the snapshot endpoint (design §6), one msgpack
// frame {topic: str, n: int}. Decoding is apart from the server's ZeroMQ loop so it can be
// tested and fuzzed alone.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal {

// The most outputs one request may ask for.
inline constexpr std::int64_t max_snapshot_outputs = 100'000;

struct snapshot_request {
  std::string topic;
  std::size_t n = 0;  // the last n outputs of topic, at most max_snapshot_outputs
};

std::string encode_snapshot_request(const snapshot_request& r);

// Throws decode_error naming the field: the frame's own decode errors (not MessagePack,
// truncated, ...), a frame that is not a map, topic missing or not a string, n missing, not an
// int, negative or above max_snapshot_outputs. Keys other than topic and n are ignored.
snapshot_request decode_snapshot_request(std::string_view bytes);

}  // namespace shoal
