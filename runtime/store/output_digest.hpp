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
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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

// One node's chain, fed output by output in seq order (by one thread at a time).
class digest_chain {
 public:
  static constexpr std::uint64_t mark_every = 1024;
  // With a worker, add() copies the bytes to it and they are hashed on its thread, in the order
  // the outputs were added; result() is then valid after flush().
  explicit digest_chain(std::string id, std::shared_ptr<digest_worker> worker = nullptr)
      : id_(std::move(id)), worker_(std::move(worker)) {}
  ~digest_chain();
  // Only a chain without a worker may move (the worker's queue holds chains by address):
  // moving one with a worker throws std::logic_error.
  digest_chain(digest_chain&& other);
  digest_chain& operator=(digest_chain&&) = delete;
  // bytes: the stored Output (under the node's first name, which becomes the chain's name).
  void add(std::string_view name, std::int64_t bucket, std::string_view bytes);
  // The same, for bytes that write(std::string& out) appends to out: with a worker they are
  // written straight into its batch, so an output made only to be digested (replay --digest)
  // is never a string of its own.
  template <class Write>
  void add_written(std::string_view name, std::int64_t bucket, Write&& write);
  // Returns once every output added so far is hashed.
  void flush();
  const std::string& name() const { return name_; }
  node_digest result() const;

 private:
  friend class digest_worker;
  void hash(std::int64_t bucket, std::string_view bytes);

  std::string id_, name_;
  std::shared_ptr<digest_worker> worker_;
  std::array<unsigned char, 32> h_{};
  std::uint64_t count_ = 0;
  std::int64_t last_bucket_ = 0;
  std::vector<digest_mark> marks_;
};

// Hashes chains' outputs on a thread of its own, so that SHA-256 (a sixth of a digest replay's
// time) runs beside the graph instead of in it. Outputs of all chains are copied into one open
// batch (one buffer, so ten thousand small chains cost no more memory than one), handed over
// when it holds batch_bytes; a producer waits while `max_pending` bytes are queued, so memory
// stays bounded.
class digest_worker {
 public:
  static constexpr std::size_t batch_bytes = 32 * 1024;
  static constexpr std::size_t max_pending = 16 * batch_bytes;
  // one_producer: every output is added from one thread (the inline replay's), so the open
  // batch needs no lock. An uncontended lock and unlock per output still cost 5 % of a replay
  // of 10,000 small nodes.
  explicit digest_worker(bool one_producer = false);
  ~digest_worker();  // hashes what is queued, then joins
  digest_worker(const digest_worker&) = delete;
  digest_worker& operator=(const digest_worker&) = delete;
  void add(digest_chain* chain, std::int64_t bucket, std::string_view bytes);
  // write(std::string& out) appends the output's bytes to out (the open batch).
  template <class Write>
  void add_written(digest_chain* chain, std::int64_t bucket, Write&& write);
  // Returns once every output added so far is hashed; rethrows a hashing failure.
  void flush();

 private:
  struct item {
    digest_chain* chain;
    std::int64_t bucket;
    std::size_t size;
  };
  struct batch {
    std::vector<item> items;
    std::string bytes;  // the items' bytes, end to end
  };
  void hand_over();  // the open batch to the queue; open_mu_ held
  // one_producer_: throws std::logic_error when an output comes from a thread other than the
  // first's (a lock-free batch filled from two threads would be corrupt, silently).
  void check_one_producer() {
    const auto me = std::this_thread::get_id();
    auto first = producer_.load(std::memory_order_relaxed);
    if (first == me) return;
    if (first == std::thread::id{} && producer_.compare_exchange_strong(first, me)) return;
    throw std::logic_error("digest_worker: a one-producer batch added to from a second thread");
  }
  void run();

  // Producers take open_mu_ for every output (unless one_producer_), the worker only mu_ (once
  // a batch), so adding an output never waits on the hashing.
  const bool one_producer_;
  std::atomic<std::thread::id> producer_{};  // one_producer_: the thread that adds
  std::mutex open_mu_;
  batch open_;
  std::mutex mu_;
  std::condition_variable work_, room_;
  std::deque<batch> queue_;
  std::vector<batch> spare_;  // hashed, emptied, kept for their capacity
  std::size_t pending_ = 0;   // bytes queued or being hashed
  std::uint64_t handed_ = 0, done_ = 0;
  std::exception_ptr error_;  // the first hashing failure (OpenSSL, memory)
  bool stop_ = false;
  std::thread thread_;
};

template <class Write>
void digest_chain::add_written(std::string_view name, std::int64_t bucket, Write&& write) {
  if (worker_) {
    worker_->add_written(this, bucket, std::forward<Write>(write));
  } else {
    std::string bytes;
    write(bytes);
    hash(bucket, bytes);
  }
  if (name_.empty()) name_ = name;  // once an output is in: a write that threw names no chain
}

template <class Write>
void digest_worker::add_written(digest_chain* chain, std::int64_t bucket, Write&& write) {
  std::unique_lock open_lock(open_mu_, std::defer_lock);
  if (one_producer_) {
    check_one_producer();
  } else {
    open_lock.lock();
  }
  const std::size_t at = open_.bytes.size();
  try {
    write(open_.bytes);
    open_.items.push_back({chain, bucket, open_.bytes.size() - at});
  } catch (...) {
    open_.bytes.resize(at);  // bytes without their item would shift every item after them
    throw;
  }
  if (open_.bytes.size() >= batch_bytes) hand_over();
}

// The chains of a running engine, one per NodeID; result() once the graph is idle. With
// `background`, the chains hash on a digest_worker's thread.
class digest_board {
 public:
  // one_producer: every output is added from one thread (see digest_worker).
  explicit digest_board(bool background = false, bool one_producer = false);
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
