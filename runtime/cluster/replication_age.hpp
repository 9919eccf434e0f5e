#pragma once
// replication_age: how long the oldest journal record the cluster lacks has been committed
// locally — the wall-clock window of feed that a host lost now would lose with it (design §12:
// replication is asynchronous). The record count (committed − replicated) says how much, not how
// old: 10,000 records are a second of a busy feed or an hour of a quiet one.
//
// Fed by the replicator: each local commit (its last journal seq, when it landed) and each
// acknowledged batch. Times are passed in, never read here. A commit it is told of late (a
// backlog an earlier run left) counts from when it is told.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace shoal {

class replication_age {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // Commits closer than this to the last one noted share its entry (the age is then at most
  // this much too old, never too young); beyond max_entries, so do all (an outage of days).
  static constexpr std::chrono::milliseconds resolution{50};
  static constexpr std::size_t max_entries = 1 << 16;

  // Records through `seq` were committed by `at` (seqs and times never go back).
  void committed(std::uint64_t seq, time_point at);
  // Every record through `seq` is in the cluster.
  void replicated(std::uint64_t seq);
  // How long ago the oldest record not in the cluster was committed (zero: none).
  std::chrono::milliseconds age(time_point now) const;

 private:
  struct commit {
    std::uint64_t through;  // records up to this seq ...
    time_point at;          // ... committed by then, the older ones earlier
  };
  std::deque<commit> pending_;  // commits holding records the cluster lacks, oldest first
  std::uint64_t replicated_ = 0;
};

}  // namespace shoal
