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
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "runtime/cluster/lag_alarm.hpp"
#include "runtime/cluster/replication_age.hpp"
#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class engine_lease;
class jetstream_link;

class journal_follower {
 public:
  struct hooks {
    std::function<void(std::uint64_t seq, std::string&& bytes)> record;
    // Called on the follower's thread once the stream's end is read with the lease taken.
    std::function<void(std::unique_ptr<engine_lease>)> promoted;
    // Called on the follower's thread when no record came for 50 ms (every record before went
    // through `record`); may be empty.
    std::function<void()> idle;
    // False on a standby that computes only some nodes (docs/cluster.md, "Placement"): it could
    // not go on as the whole engine, so it never tries for the lease.
    bool contend = true;
    // The data dir's journal records through `after` (none: not held), and the dir's path: a
    // record the stream has as lost must be one there too (check_not_lost_here). May be empty.
    std::function<std::optional<std::string>(std::uint64_t seq)> local_record;
    std::string local_dir;
  };
  // `after`: the last journal seq the data dir holds, `last` its bytes (the stream must hold
  // the same record: a dir of another engine is not merged in).
  journal_follower(cluster_decl c, std::uint64_t after, std::string last, hooks h);
  ~journal_follower();
  journal_follower(const journal_follower&) = delete;
  journal_follower& operator=(const journal_follower&) = delete;

  void stop();
  std::uint64_t followed() const { return followed_.load(); }  // last journal seq handed on
  // Journal records its takeover found missing below records the stream held, and put in the
  // stream as lost (lost_journal_record).
  std::uint64_t lost_records() const { return lost_records_.load(); }
  std::string holder() const;  // the active engine's process, as its lease names it
  std::string error() const;   // why following stopped ("" while it runs)

  // How far this standby trails the stream, as a thread of its own reads the stream's end every
  // lag_check (its own connection, so a cluster slow to answer never holds up following): the
  // engine's journal records the stream holds that it has not handed on yet, and how long ago
  // it first found the oldest of them there (replication_age: it errs long by up to lag_check;
  // a backlog found at its start, or after its own process was stopped, counts from then). Its
  // outputs are that late, and a takeover reads those records first. Once following stopped on
  // an error, the age counts at least from then: a standby that follows nothing is behind.
  struct lag {
    std::uint64_t records = 0;
    std::int64_t ms = 0;
    std::uint64_t stream_last = 0;  // the last journal seq of the engine the stream held
  };
  lag follow_lag() const;
  static constexpr std::chrono::milliseconds lag_check{250};
  // A lag this old is logged (a warning, then once a minute while it lasts), and its end.
  static constexpr std::chrono::seconds lag_warning{5};

 private:
  void run();
  // The lag probe's thread, until a takeover or stop_probe() (which waits for it).
  void probe();
  void stop_probe();
  // Reads where the engine's journal ends in the stream. Throws cluster_error.
  void check_lag(jetstream_link& link, const std::string& subject);

  cluster_decl c_;
  hooks hooks_;
  const std::uint64_t after_;
  const std::string last_;
  std::atomic<std::uint64_t> followed_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> lost_records_{0};
  mutable std::mutex mu_;
  std::string holder_, error_;
  // Under mu_, with the age. Reading the lag brings the age up to followed_ (a const read that
  // drops what was handed on since the last probe).
  std::uint64_t stream_last_ = 0;
  mutable replication_age age_;
  lag_alarm alarm_{lag_warning};
  std::optional<std::chrono::steady_clock::time_point> failed_at_;  // following stopped on an error
  bool probe_stop_ = false;
  std::condition_variable probe_cv_;
  std::thread thread_, prober_;
};

}  // namespace shoal
