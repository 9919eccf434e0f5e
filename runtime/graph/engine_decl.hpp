#pragma once
// [engine]: the engine's endpoints, admin plane, store settings and strategy files (read in
// engine_section.cpp). config/engine.toml lists every key with its default.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/graph/config_error.hpp"

namespace shoal {

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
  std::string console;  // "127.0.0.1:PORT": the operator console (runtime/admin/console.hpp)
  // CURVE ([engine] curve = { secret_key_file, allowed_clients }): publish, publish_tracked and
  // snapshot become CURVE servers with this secret key; only client keys found in the
  // allowed_clients directory get in (runtime/transport/zap_handler.hpp). Empty: no CURVE.
  std::string curve_secret_key_file, curve_allowed_clients;
  // An admin connection closes after this long without a complete request (or with an answer
  // it does not take); likewise a /metrics connection.
  std::int64_t admin_idle_timeout_ns = 60'000'000'000;
  std::int64_t metrics_idle_timeout_ns = 10'000'000'000;
  std::string data_dir = "./shoal-data";
  std::int64_t publish_hwm = 10000;    // ZeroMQ send high-water mark per subscriber
  std::int64_t commit_records = 1000;  // group commit: every N records ...
  std::int64_t commit_ms = 20;         // ... or T ms, whichever comes first
  std::int64_t reject_keep_bytes = 1024;  // bytes of a rejected frame kept in the journal
  // Publish an output only once the journal records it depends on are committed: a restart
  // after a crash never reissues a published (node, seq) with another value.
  bool publish_after_commit = false;
  // The threads node actors run on (sources have threads of their own).
  std::int64_t workers = 2;
  // How long an idle node worker keeps polling for its next message before it sleeps (0: as
  // CAF's scheduler does, a few µs). Each input then finds a worker awake instead of paying the
  // wake of a sleeping thread, which a VM whose idle CPUs halt makes tens of µs; the price is a
  // busy core per worker while messages come more often than that (docs/operations.md,
  // "Latency"; runtime/engine/engine_scheduler.hpp).
  std::int64_t idle_spin_us = 0;
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

}  // namespace shoal
