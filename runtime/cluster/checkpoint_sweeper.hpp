#pragma once
// checkpoint_sweeper: removes from the cluster the checkpoints of placed processes that are gone
// for good. Each placed process puts its checkpoints under its own name
// (process_checkpoint_name), and only the process its nodes go to when it dies reads them, as it
// restarts to take them (docs/cluster.md, "When a placed process dies"). A process that never
// comes back (a host replaced, a data dir made anew: a new name) would leave them in the bucket
// for ever. The active process of a placed engine looks every `period`, and removes the
// checkpoint of every process that is neither listed among the engine's members (live or away)
// nor a member of its placement, once it has been seen so for `retention` — and not before the
// process each of its nodes went to says it published it (its heir has started them). A process
// that comes back is placed anew at the active process's next start, and puts new ones there.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;

class checkpoint_sweeper {
 public:
  static constexpr std::size_t max_listed = 100;
  struct stats {
    std::uint64_t sweeps = 0, failures = 0;
    std::uint64_t removed_count = 0;   // processes whose checkpoints went, this run
    std::vector<std::string> removed;  // the last max_listed of them
    std::vector<std::string> waiting;  // gone, and removed once `retention` has passed
    std::string last_error;
  };
  // Connects (its own connection). start(): sweeps on a thread of its own every `period`; without
  // it, only sweep() does. Throws cluster_error.
  checkpoint_sweeper(const cluster_decl& c, std::chrono::milliseconds retention,
                     std::chrono::milliseconds period, bool start = true);
  ~checkpoint_sweeper();
  checkpoint_sweeper(const checkpoint_sweeper&) = delete;
  checkpoint_sweeper& operator=(const checkpoint_sweeper&) = delete;

  // Looks once, as at `now`: returns the processes whose checkpoints it removed. Throws
  // cluster_error (the cluster did not answer; nothing is taken for gone then).
  std::vector<std::string> sweep(std::chrono::steady_clock::time_point now);
  // Stops the thread (a fenced process writes nothing more: a sweep under way removes nothing
  // more once it is asked to stop).
  void stop();
  stats snapshot() const;

 private:
  void run();

  cluster_decl c_;
  std::chrono::milliseconds retention_, period_;
  std::unique_ptr<jetstream_link> link_;
  std::map<std::string, std::chrono::steady_clock::time_point> gone_since_;  // sweep()'s
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  stats st_;
  std::thread thread_;
};

}  // namespace shoal
