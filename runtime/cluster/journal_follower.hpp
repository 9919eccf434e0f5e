#pragma once
// journal_follower: a standby engine's input (`shoal run --standby`). It reads the active
// engine's journal from the cluster as the active writes it (an ordered consumer on
// <subjects>.in.<engine_id>), hands each record on in journal order — the engine appends it to
// its own journal and feeds its graph, so the standby computes, stores and publishes the same
// outputs with the same seqs — and tries for the engine's lease every third of heartbeat_ttl.
// When the active stops renewing it (killed, or a clean stop that gives it up), the follower
// takes the lease, reads the stream to its end, and hands the lease to the engine, which then
// starts its own sources and goes on as the active engine.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class engine_lease;

class journal_follower {
 public:
  struct hooks {
    std::function<void(std::uint64_t seq, std::string&& bytes)> record;
    // Called on the follower's thread once the stream's end is read with the lease taken.
    std::function<void(std::unique_ptr<engine_lease>)> promoted;
    // False on a standby that computes only some nodes (docs/cluster.md, "Placement"): it could
    // not go on as the whole engine, so it never tries for the lease.
    bool contend = true;
  };
  // `after`: the last journal seq the data dir holds, `last` its bytes (the stream must hold
  // the same record: a dir of another engine is not merged in).
  journal_follower(cluster_decl c, std::uint64_t after, std::string last, hooks h);
  ~journal_follower();
  journal_follower(const journal_follower&) = delete;
  journal_follower& operator=(const journal_follower&) = delete;

  void stop();
  std::uint64_t followed() const { return followed_.load(); }  // last journal seq handed on
  std::string holder() const;  // the active engine's process, as its lease names it
  std::string error() const;   // why following stopped ("" while it runs)

 private:
  void run();

  cluster_decl c_;
  hooks hooks_;
  const std::uint64_t after_;
  const std::string last_;
  std::atomic<std::uint64_t> followed_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::string holder_, error_;
  std::thread thread_;
};

}  // namespace shoal
