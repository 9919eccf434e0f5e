#pragma once
// [[source]]: a source as declared. Its kind (runtime/sources/source_kinds.hpp) reads its own
// keys, so the loader only knows the common ones; from here on kinds, zmq formats and stream
// time modes are enums, never strings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/value.hpp"
#include "runtime/graph/config_error.hpp"

namespace shoal {

enum class source_kind { fabricator, zmq, journal, cluster_node };
const char* to_string(source_kind k);  // the config's `kind`

// A zmq source's frames: [stream][msgpack payload], or another shoal engine's
// [topic][msgpack Output] (bucket = event time, value = payload, sender seq checked for gaps).
enum class zmq_format { event, output };
std::optional<zmq_format> parse_zmq_format(std::string_view s);
const char* to_string(zmq_format f);

// Where a stream's event time comes from (source_progress.hpp): the payload's ts (required),
// stamped on arrival and journaled, or "auto" (the first accepted event decides for good).
enum class stream_time { payload, ingest, automatic };
std::optional<stream_time> parse_stream_time(std::string_view s);  // "payload" | "ingest" | "auto"
const char* to_string(stream_time t);
std::string stream_time_choices();  // "\"auto\", \"payload\" or \"ingest\"" for config errors

struct stream_decl {
  std::string name;                // short name; the stream node is "<source>.<name>"
  std::string schema = "any";      // payload validation (scan, ob, posture, esof, acb, mc, any)
  bool one_per_bucket = false;     // each event closes its bucket at once
  std::optional<std::string> key;  // keyed bucket (ob: "asset")
  stream_time time = stream_time::automatic;
  // cluster_node: the NodeID (64 hex digits) of the other engine's node whose outputs it carries.
  std::string node;
};

struct source_decl {
  std::string name;
  source_kind kind = source_kind::fabricator;
  std::int64_t interval_ns = 1'000'000'000;
  value_map params;          // kind params that shape the data (hashed into stream NodeIDs)
  std::int64_t pace_ns = 0;  // fabricator, journal: wall-clock time per bucket (0 = interval)
  std::int64_t idle_timeout_ns = 2'000'000'000;  // live idle watermark
  // zmq: an event later than max(its stream's progress, the wall clock) + max_future is rejected
  // (0: no bound); an idle stream's watermark trails the source's progress by allowed_lateness.
  std::int64_t max_future_ns = 60'000'000'000;
  std::int64_t allowed_lateness_ns = 0;
  std::vector<std::string> connect;  // zmq endpoints
  zmq_format format = zmq_format::event;
  // format "output": the sender's snapshot endpoint and how many recent outputs per topic to
  // ask for at start (a late mirror warms up from them instead of waiting).
  std::string snapshot;
  std::int64_t catch_up = 0;
  // CURVE client (curve = { secret_key_file, server_key }): this source's key pair and the
  // public key (Z85) of the feed or engine it connects to. Empty: plain ZeroMQ.
  std::string curve_secret_key_file, curve_server_key;
  // cluster_node: the [cluster] engine_id of the engine whose nodes' outputs it reads from the
  // cluster's stream (through this engine's [cluster] servers and credentials).
  std::string engine;
  // cluster_node `from`: on a journal without the stream's events yet, start at the node's first
  // output for this bucket (ns) or later instead of its seq 1.
  std::optional<std::int64_t> from_bucket;
  std::vector<stream_decl> streams;
  source_loc loc;
};

}  // namespace shoal
