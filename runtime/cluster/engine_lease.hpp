#pragma once
// engine_lease: which running process is engine <engine_id> — the one that ingests its sources
// and writes its journal subject. A key <engine_id> in the key-value bucket <stream>_leases,
// whose keys expire heartbeat_ttl after their last write: the holder rewrites it every third of
// that; a holder that dies stops rewriting, the key expires, and a standby (`shoal run
// --standby`) creates it and takes over. Creating and rewriting are revision-checked, so two
// processes never both believe they hold it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;

class engine_lease {
 public:
  // Connects (its own connection) and makes sure the bucket exists. Throws cluster_error.
  explicit engine_lease(const cluster_decl& c);
  ~engine_lease();  // stops renewing; the key expires on its own unless released
  engine_lease(const engine_lease&) = delete;
  engine_lease& operator=(const engine_lease&) = delete;

  // Takes the lease if nobody holds it, and from then on renews it every heartbeat_ttl / 3 on a
  // thread of its own. Returns whether this process holds it now.
  bool try_acquire();
  // Takes the lease, waiting up to `wait` for a holder's to expire.
  bool acquire(std::chrono::milliseconds wait);
  // What to do (on the renewing thread) if a renewal finds that another process took the
  // lease; when that happened already, `on_lost` runs at once.
  void on_lost(std::function<void()> f);
  // Gives it up (a clean stop): a standby may take over at once.
  void release();
  bool held() const { return revision_.load() != 0; }
  std::string instance() const { return instance_; }
  // Who holds it now, as the holder wrote it ("" when nobody does).
  std::string holder();
  std::string bucket() const { return bucket_; }

 private:
  cluster_decl c_;
  std::string bucket_, instance_;
  std::unique_ptr<jetstream_link> link_;
  std::atomic<std::uint64_t> revision_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, lost_ = false;
  std::function<void()> on_lost_;
  std::thread keeper_;
  void keep();
};

}  // namespace shoal
