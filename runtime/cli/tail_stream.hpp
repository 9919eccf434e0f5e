#pragma once
// `shoal tail --cluster CONFIG --from-stream`: a node's outputs read from the cluster's stream
// ([cluster] stream_outputs) instead of the members' ZeroMQ endpoints: from its first seq (or
// after --since, or of buckets from --from on), each seq once and in order, whichever process made
// it, then the new ones as they come.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shoal {

struct config;
struct plan;

struct stream_tail_options {
  std::string config_path;          // for messages
  std::vector<std::string> topics;  // node names (empty: every node)
  std::uint64_t since = 0;          // print each node's outputs after this seq
  std::optional<std::int64_t> from;  // or those of buckets from this time (ns) on
  std::string from_text;
  std::uint64_t count = 0;          // stop after this many (0: never)
  std::int64_t for_ns = 0;          // stop after this long (0: never)
  std::string for_text;
  bool json = false;
  std::size_t width = 160;
};

// Returns the exit code: 0, 1 (the cluster did not answer, or --for/--count ended short), 2 (a
// TOPIC that is no node of the config), 128 + signal.
int tail_from_stream(const config& cfg, const plan& p, const stream_tail_options& o);

}  // namespace shoal
