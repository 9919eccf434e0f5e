#pragma once
// store: one LMDB environment per data dir with the databases of design §7 —
//   journal  u64 big-endian ingest seq  → journal record (msgpack Event or Watermark, + rejected)
//   outputs  NodeID bytes + bucket      → msgpack Output
//   state    NodeID bytes               → checkpoint of one node
//   meta     string                     → engine version, config, graph hash, last checkpoint
// Reads use short read transactions (never held across a long operation, so the file does not
// grow). Writes go through store_writer only: LMDB allows one writer per environment.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/clock/clock.hpp"

struct MDB_env;

namespace shoal {

class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class store {
 public:
  // Opens the environment in dir: for writing, creating dir and the databases, when create is
  // true (the caller holds the dir's dir_lock); read-only otherwise.
  explicit store(const std::string& dir, bool create = true);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  const std::string& dir() const { return dir_; }
  static bool exists(const std::string& dir);

  std::uint64_t journal_last() const;   // last ingest seq, 0 when empty
  std::uint64_t journal_count() const;  // records in the journal
  // Calls f(ingest seq, bytes) for up to `limit` records after `after`, in order, inside one
  // short read transaction. Returns how many were read.
  std::size_t read_journal(std::uint64_t after, std::size_t limit,
                           const std::function<void(std::uint64_t, std::string_view)>& f) const;
  // Walks the journal backwards from the end, calling f until it returns false.
  void read_journal_backwards(const std::function<bool(std::uint64_t, std::string_view)>& f) const;

  std::uint64_t output_count() const;
  // Every output in key order (NodeID, bucket), read in batches of short transactions.
  void for_each_output(const std::function<void(std::string_view id_hex, std::int64_t bucket,
                                                std::string_view)>& f) const;

  // One node's outputs with after < bucket <= through, in bucket order, in short read
  // transactions.
  void for_each_output_of(
      std::string_view id_hex, std::int64_t after, std::int64_t through,
      const std::function<void(std::int64_t bucket, std::string_view)>& f) const;
  // The last n outputs of one node (by NodeID), oldest first.
  std::vector<std::string> last_outputs(std::string_view id_hex, std::size_t n) const;

  std::optional<std::string> get_meta(const std::string& key) const;
  std::map<std::string, std::string> all_state() const;  // NodeID hex → checkpoint bytes

  // Drops this process's mapping of the pages read so far (MADV_DONTNEED). They stay in the
  // page cache and fault back in on the next read; without this, reading a long journal
  // through LMDB's memory map grows RSS by the size of the file.
  void release_mapped_pages() const;

  MDB_env* env() const { return env_; }
  unsigned db_journal() const { return journal_; }
  unsigned db_outputs() const { return outputs_; }
  unsigned db_state() const { return state_; }
  unsigned db_meta() const { return meta_; }

 private:
  std::string dir_;
  MDB_env* env_ = nullptr;
  void* map_addr_ = nullptr;  // LMDB's map of data.mdb (mdb_env_info reports it only for FIXEDMAP)
  unsigned journal_ = 0, outputs_ = 0, state_ = 0, meta_ = 0;
};

// Output keys sort by NodeID, then by bucket numerically (sign bit flipped, big-endian).
std::string output_key(std::string_view id_hex, std::int64_t bucket);
std::string u64_key(std::uint64_t v);
std::uint64_t read_u64_key(std::string_view key);

// Histogram bounds (seconds) of commit time; the last bucket is +Inf.
inline constexpr std::array<double, 8> commit_bounds_s{1e-4, 5e-4, 1e-3, 5e-3,
                                                       1e-2, 5e-2, 0.1,  1.0};

struct writer_stats {
  std::uint64_t records = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_ns = 0;                   // total time spent committing
  std::array<std::uint64_t, 9> commit_counts{};  // per commit_bounds_s bucket
};

// The single writer: a thread that owns every write transaction. Its promise, whatever the input
// rate: a record is committed at most max_delay after it was enqueued, or sooner once max_batch
// records are waiting. Producers never touch LMDB; when the queue holds max_queue records or
// max_queue_bytes bytes they wait (back-pressure, bounded memory) — and waiting wakes the writer,
// so a queue full of a few large records is committed at once instead of never.
class store_writer {
  enum class op_kind : std::uint8_t { journal, output, state, meta, erase_state };
  struct op {
    op_kind kind;
    std::string key;
    std::string value;
    clock::time_point arrived;
  };

 public:
  struct options {
    std::size_t max_batch = 1000;
    std::chrono::milliseconds max_delay{20};
    std::size_t max_queue = 200'000;
    std::size_t max_queue_bytes = std::size_t{64} << 20;
    shoal::clock* clock = nullptr;  // null: the system clock
  };
  store_writer(store& s, options o);
  explicit store_writer(store& s) : store_writer(s, options{}) {}
  ~store_writer();
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  // Appends to the journal; returns the ingest seq, assigned in call order.
  std::uint64_t append_journal(std::string bytes);
  void put_output(std::string_view id_hex, std::int64_t bucket, std::string bytes);
  void put_state(std::string_view id_hex, std::string bytes);
  void erase_state(std::string_view id_hex);
  void put_meta(std::string key, std::string value);
  // Writes that must land in one transaction (a checkpoint: every node's state with the journal
  // position it belongs to). The writer commits whatever is queued together, so a group queued
  // under one lock is never split.
  class group {
   public:
    void put_state(std::string_view id_hex, std::string bytes);
    void erase_state(std::string_view id_hex);
    void put_meta(std::string key, std::string value);
    bool empty() const { return ops_.empty(); }

   private:
    friend class store_writer;
    std::vector<op> ops_;
  };
  void put_group(group g);
  // Blocks until everything enqueued so far is committed. Rethrows a writer failure.
  void flush();
  // Asks for the journal through seq to be committed now rather than at the commit deadline,
  // without waiting for it (publish_after_commit: an output is held until then). Whatever is
  // queued goes in that commit, and what arrives meanwhile in the next: group commit on demand.
  void expedite(std::uint64_t seq);
  void stop();
  writer_stats stats() const;
  std::uint64_t last_journal_seq() const;  // last ingest seq handed out (0 = none)
  // Last ingest seq whose record is committed (durable), 0 = none.
  std::uint64_t committed_journal_seq() const;
  // Called on the writer thread after each commit with the last committed ingest seq (set
  // before records are written).
  void on_commit(std::function<void(std::uint64_t committed_journal)> listener);
  // Records waiting to be committed (for tests and metrics).
  std::size_t queued() const;

 private:
  void enqueue(op o);
  // With mu_ held: waits until the queue has room, waking the writer first (a full queue is
  // a due batch). Throws when the writer stopped.
  void wait_for_room(std::unique_lock<std::mutex>& lock);
  void push(op o);
  bool has_room() const;   // under mu_
  bool batch_due() const;  // under mu_: commit now, without waiting for the deadline
  void run();
  void commit(std::deque<op>& batch);

  store& store_;
  options opt_;
  clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::condition_variable done_cv_;  // wakes producers (room in queue, flush done)
  std::deque<op> queue_;
  std::uint64_t next_journal_;
  std::uint64_t enqueued_ = 0, committed_ = 0;
  std::uint64_t committed_journal_ = 0;
  std::size_t blocked_producers_ = 0;
  std::function<void(std::uint64_t)> on_commit_;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::uint64_t expedite_through_ = 0;  // a commit is due while the journal is behind this
  std::string failure_;
  writer_stats stats_;
  std::thread thread_;
};

}  // namespace shoal
