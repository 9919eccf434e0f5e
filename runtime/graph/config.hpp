#pragma once
// The TOML configuration of an engine, as declared: [engine], [[source]], [[node]] and the
// strategy files it lists. Loading checks syntax, types and keys and remembers where each
// declaration came from; resolving inputs, NodeIDs and dedup happen in plan.hpp.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/value.hpp"

namespace shoal {

struct source_loc {
  std::string file;
  std::size_t line = 0;
};

// A config problem, always one line: "file:line: key: problem".
class config_error : public std::runtime_error {
 public:
  config_error(const source_loc& loc, const std::string& key, const std::string& problem);
  const source_loc& loc() const { return loc_; }

 private:
  source_loc loc_;
};

struct engine_decl {
  std::string name = "shoal";
  std::string publish = "tcp://127.0.0.1:5556";  // PUB endpoint the engine binds
  // ROUTER endpoint publishing the same frames to DEALER subscribers, each with its own queue
  // whose drops are counted per subscriber (runtime/transport/subscriber_channel.hpp); empty =
  // none.
  std::string publish_tracked;
  // ROUTER endpoint answering "last N outputs of topic T" from the outputs store (late
  // joiners); empty = none.
  std::string snapshot;
  // Admin socket (design §9): Unix socket path (default <data dir>/shoal.sock), optional
  // loopback TCP "127.0.0.1:PORT" with a token, optional loopback HTTP for GET /metrics.
  std::string admin;
  std::string admin_tcp;
  std::string admin_token;
  std::string metrics_http;
  // An admin connection closes after this long without a complete request (or with an answer
  // it does not take); likewise a /metrics connection.
  std::int64_t admin_idle_timeout_ns = 60'000'000'000;
  std::int64_t metrics_idle_timeout_ns = 10'000'000'000;
  std::string data_dir = "./shoal-data";
  std::int64_t publish_hwm = 10000;    // ZeroMQ send high-water mark per subscriber
  std::int64_t commit_records = 1000;  // group commit: every N records ...
  std::int64_t commit_ms = 20;         // ... or T ms, whichever comes first
  std::int64_t reject_keep_bytes = 1024;
  // Publish an output only once the journal records it depends on are committed: a restart
  // after a crash never reissues a published (node, seq) with another value.
  bool publish_after_commit = false;    // bytes of a rejected frame kept in the journal
  std::vector<std::string> strategies;  // files, relative to the config file
  // A read-only mirror names the engine config it mirrors: publishing on any of that
  // engine's topics (or its endpoint) is then a config error.
  std::string mirrors;
  source_loc loc;
  // Where each key of [engine] was written (keys left at their default are absent).
  std::map<std::string, source_loc> key_locs;
  source_loc loc_of(const std::string& key) const {
    auto it = key_locs.find(key);
    return it == key_locs.end() ? loc : it->second;
  }
};

struct stream_decl {
  std::string name;                // short name; the stream node is "<source>.<name>"
  std::string schema = "any";      // payload validation (scan, ob, posture, esof, acb, mc, any)
  bool one_per_bucket = false;     // each event closes its bucket at once
  std::optional<std::string> key;  // keyed bucket (ob: "asset")
  // zmq event time: "payload" (the payload's ts, required), "ingest" (stamped on arrival and
  // journaled), "auto" (payload ts when present, else stamped).
  std::string time = "auto";
};

struct source_decl {
  std::string name;
  std::string kind;  // fabricator | zmq
  std::int64_t interval_ns = 1'000'000'000;
  value_map params;          // kind params that shape the data (hashed into stream NodeIDs)
  std::int64_t pace_ns = 0;  // fabricator: wall-clock time per bucket (0 = interval)
  std::int64_t idle_timeout_ns = 2'000'000'000;  // live idle watermark
  // zmq: an event later than max(its stream's progress, the wall clock) + max_future is rejected
  // (0: no bound); an idle stream's watermark trails the source's progress by allowed_lateness.
  std::int64_t max_future_ns = 60'000'000'000;
  std::int64_t allowed_lateness_ns = 0;
  std::vector<std::string> connect;  // zmq endpoints
  // zmq frame format: "event" ([stream][msgpack payload]) or "output" (another shoal engine's
  // [topic][msgpack Output]: bucket = event time, value = payload, sender seq checked for gaps)
  std::string format = "event";
  // format "output": the sender's snapshot endpoint and how many recent outputs per topic to
  // ask for at start (a late mirror warms up from them instead of waiting).
  std::string snapshot;
  std::int64_t catch_up = 0;
  std::vector<stream_decl> streams;
  source_loc loc;
};

struct input_decl {
  std::string port;
  std::string upstream;           // a name, or empty for a tag query
  std::vector<std::string> tags;  // tag query
  bool match_all = false;
  source_loc loc;
};

struct node_decl {
  std::string name;      // qualified: "<strategy>.<node>" inside a strategy
  std::string strategy;  // empty for top-level nodes
  std::string kind;
  value_map params;
  std::vector<input_decl> inputs;
  std::optional<std::int64_t> interval_ns;
  std::optional<std::int64_t> period;
  std::string on_missing = "skip";
  bool late_side = false;  // late = "side": late inputs are also published on <name>.late
  std::vector<std::string> tags;
  std::string description;
  source_loc loc;
  source_loc params_loc;
};

struct config {
  std::string path;
  engine_decl engine;
  std::vector<source_decl> sources;
  std::vector<node_decl> nodes;
};

// Loads CONFIG and the strategy files it lists. Throws config_error.
config load_config(const std::string& path);

// Parses one strategy file's nodes (names qualified by its [strategy] name).
std::vector<node_decl> load_strategy_file(const std::string& path, std::string* strategy_name);
// The same for a strategy given as text (submitted inline); errors name `origin` for the file.
std::vector<node_decl> load_strategy_text(const std::string& text, const std::string& origin,
                                          std::string* strategy_name);

}  // namespace shoal
