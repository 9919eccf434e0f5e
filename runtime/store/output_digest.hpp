#pragma once
// The wire digest of a node's outputs (decisions, "Digests"): H0 = 32 zero bytes,
// Hi = SHA-256(Hi-1 ‖ stored Output bytes of output i), outputs in seq order. The chain value is
// also marked every 1,024 outputs with its bucket, so two digests that differ can be narrowed to
// a range of buckets without the outputs themselves.
//
// `shoal replay --digest` computes it while replaying (nothing stored), `digest_of_store` from a
// data dir's stored outputs; `shoal parity` and the scenario references compare them. The JSON
// form: {"format": "shoal-digest/1", "nodes": {NAME: {id, outputs, digest, last_bucket, marks:
// [[count, bucket, digest]…]}}}, keyed by the node's (first) name as its outputs carry it.

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace shoal {

class store;

struct digest_mark {
  std::uint64_t count = 0;  // outputs chained so far
  std::int64_t bucket = 0;  // bucket of the count-th output
  std::string digest;       // chain value after it (hex)
  bool operator==(const digest_mark&) const = default;
};

struct node_digest {
  std::string id;
  std::uint64_t outputs = 0;
  std::string digest;  // hex
  std::int64_t last_bucket = 0;
  std::vector<digest_mark> marks;
};

using digest_set = std::map<std::string, node_digest>;  // by node name

class digest_worker;

// Outputs waiting to be hashed, one chain's, in order: their buckets and sizes, and their bytes
// end to end in one buffer.
struct digest_batch {
  std::vector<std::pair<std::int64_t, std::size_t>> outputs;
  std::string bytes;
};

// One node's chain, fed output by output in seq order (by one thread at a time).
class digest_chain {
 public:
  static constexpr std::uint64_t mark_every = 1024;
  static constexpr std::size_t batch_bytes = 64 * 1024;
  // With a worker, add() copies the bytes into the chain's batch, which is hashed on the
  // worker's thread once full, in the order the outputs were added (no lock per output).
  // result() is then valid after flush().
  explicit digest_chain(std::string id, std::shared_ptr<digest_worker> worker = nullptr)
      : id_(std::move(id)), worker_(std::move(worker)) {}
  ~digest_chain();
  // Only a chain without a worker may move: the worker's queue holds chains by address.
  digest_chain(digest_chain&&) = default;
  digest_chain& operator=(digest_chain&&) = default;
  // bytes: the stored Output (under the node's first name, which becomes the chain's name).
  void add(std::string_view name, std::int64_t bucket, std::string_view bytes);
  // Hands the open batch to the worker and waits until every output added is hashed.
  void flush();
  const std::string& name() const { return name_; }
  node_digest result() const;

 private:
  friend class digest_worker;
  void hash(std::int64_t bucket, std::string_view bytes);
  void hand_over();

  std::string id_, name_;
  std::shared_ptr<digest_worker> worker_;
  digest_batch open_;
  std::array<unsigned char, 32> h_{};
  std::uint64_t count_ = 0;
  std::int64_t last_bucket_ = 0;
  std::vector<digest_mark> marks_;
};

// Hashes chains' batches on a thread of its own, so that SHA-256 (a sixth of a digest replay's
// time) runs beside the graph instead of in it. A chain hands over a batch when it holds
// digest_chain::batch_bytes; submit() waits while `max_pending` bytes are queued, so memory
// stays bounded.
class digest_worker {
 public:
  static constexpr std::size_t max_pending = 32 * digest_chain::batch_bytes;
  digest_worker();
  ~digest_worker();  // hashes what is queued, then joins
  digest_worker(const digest_worker&) = delete;
  digest_worker& operator=(const digest_worker&) = delete;
  // Queues `b` for `chain` and returns an emptied batch (with capacity) to fill next.
  digest_batch submit(digest_chain* chain, digest_batch b);
  void wait_idle();  // returns once every batch submitted so far is hashed

 private:
  void run();

  std::mutex mu_;
  std::condition_variable work_, room_;
  std::deque<std::pair<digest_chain*, digest_batch>> queue_;
  std::vector<digest_batch> spare_;  // hashed, emptied, kept for their capacity
  std::size_t pending_ = 0;          // bytes queued or being hashed
  std::uint64_t submitted_ = 0, done_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// The chains of a running engine, one per NodeID; result() once the graph is idle. With
// `background`, the chains hash on a digest_worker's thread.
class digest_board {
 public:
  explicit digest_board(bool background = false);
  std::shared_ptr<digest_chain> chain(const std::string& id);
  digest_set result() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<digest_worker> worker_;
  std::map<std::string, std::shared_ptr<digest_chain>> chains_;
};

digest_set digest_of_store(const store& s);

nlohmann::json to_json(const digest_set& d);
// Throws std::runtime_error naming what is wrong.
digest_set digest_set_from_json(const nlohmann::json& j);

}  // namespace shoal
