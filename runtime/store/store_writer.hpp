#pragma once
// store_writer: the one thread that writes a data dir's LMDB environment (runtime/store/store.hpp
// reads it). Group commit with a latency promise; see the class comment.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/clock/clock.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

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
// records are waiting (a large batch in several transactions: options::max_txn_bytes). Producers
// never touch LMDB; when the queue holds max_queue records or
// max_queue_bytes bytes they wait (back-pressure, bounded memory) — and waiting wakes the writer,
// so a queue full of a few large records is committed at once instead of never.
//
// Journal records wait in a lane of their own and go first in every transaction: a backlog of
// outputs (a graph of many nodes, a burst) is committed in many transactions, and a journal
// record queued behind it would wait for all of them — seconds in which what a feed sent is
// not durable. Each lane keeps its order, and every other write lands no earlier than the
// journal records queued before it (an output never outlives the input it came from; a
// checkpoint never precedes the records it has seen). A journal record may land before outputs
// queued earlier: those are computed again from the journal after a crash.
class store_writer {
  enum class op_kind : std::uint8_t { journal, output, state, meta, erase_state, ledger, retire };
  struct op {
    op_kind kind;
    std::string key;
    std::string value;
    clock::time_point arrived;
    bool group_continues = false;  // a put_group op that is not its group's last
    std::uint64_t order = 0;       // the order in which it was queued, across both lanes
  };

 public:
  struct options {
    std::size_t max_batch = 1000;
    std::chrono::milliseconds max_delay{20};
    std::size_t max_queue = 200'000;
    std::size_t max_queue_bytes = std::size_t{64} << 20;
    // A batch larger than this (keys + values) is committed in several transactions, each
    // ending at the first record (or group) that reaches it. LMDB keeps the page buffers of
    // its largest write transaction for reuse until the environment closes, so this bounds
    // that memory: one backlog committed at once would raise the process's RSS for good.
    std::size_t max_txn_bytes = std::size_t{512} << 10;
    // A store flushed only on demand (store_sync::on_sync): the writer asks the kernel to start
    // writing after this many committed bytes, so that the final flush finds little to do.
    std::size_t writeback_bytes = std::size_t{16} << 20;
    shoal::clock* clock = nullptr;  // null: the system clock
  };
  store_writer(store& s, options o);
  explicit store_writer(store& s) : store_writer(s, options{}) {}
  ~store_writer();
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  // Appends to the journal; returns the ingest seq, assigned in call order.
  std::uint64_t append_journal(std::string bytes);
  // Appends a control record (a runtime change). The first one a writer appends is preceded by
  // meta "journal_controls" = "1" in the same queue, so the meta is committed no later than the
  // record and replay may trust it (store::journal_has_controls).
  std::uint64_t append_journal_control(std::string bytes);
  void put_output(std::string_view id_hex, std::int64_t bucket, std::string bytes);
  void put_output(const node_key& id, std::int64_t bucket, std::string bytes);
  void put_state(std::string_view id_hex, std::string bytes);
  void erase_state(std::string_view id_hex);
  void put_meta(std::string key, std::string value);
  // Build mode: one (node, segment) record of the ledger; an output moved from outputs to
  // retired (its node left the graph; a later build may reuse it).
  void put_ledger(std::string_view id_hex, std::int64_t segment, std::string bytes);
  void retire_output(std::string_view id_hex, std::int64_t bucket, std::string bytes);
  // A retired node's checkpoint (kept in the ledger db under its bare NodeID), for reuse.
  void put_retired_state(std::string_view id_hex, std::string bytes);
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
  // Adds a listener called on the writer thread after each commit with the last committed
  // ingest seq (add them before records are written).
  void on_commit(std::function<void(std::uint64_t committed_journal)> listener);
  // Records waiting to be committed (for tests and metrics).
  std::size_t queued() const;

 private:
  void enqueue(op o);
  // With mu_ held: waits until the queue has room, waking the writer first (a full queue is
  // a due batch). Throws when the writer stopped.
  void wait_for_room(std::unique_lock<std::mutex>& lock);
  void push(op o, bool journal_lane);
  bool has_room() const;   // under mu_
  bool batch_due() const;  // under mu_: commit now, without waiting for the deadline
  std::size_t queued_count() const { return queue_.size() + journal_queue_.size(); }  // under mu_
  void run();
  void commit(std::deque<op>& batch);
  // Takes from the journal lane, for the next transaction: every record queued before
  // `must_precede` (an op order), then more while under max_txn_bytes.
  std::deque<op> take_journal(std::uint64_t must_precede);
  // One write transaction: the journal records, then batch[first, last).
  void commit_txn(std::deque<op>& journal, std::deque<op>& batch, std::size_t first,
                  std::size_t last);

  store& store_;
  options opt_;
  clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::condition_variable done_cv_;  // wakes producers (room in queue, flush done)
  std::deque<op> queue_;             // everything but the journal, in order
  std::deque<op> journal_queue_;     // journal records (and the meta that must precede them)
  std::uint64_t next_journal_;
  bool controls_marked_ = false;
  std::uint64_t enqueued_ = 0;  // ops queued: the last one's order
  // The order of the last op queued and of the last committed, per lane (flush waits for both).
  std::uint64_t last_queued_ = 0, last_journal_queued_ = 0;
  std::uint64_t last_committed_ = 0, last_journal_committed_ = 0;
  std::uint64_t committed_journal_ = 0;
  std::size_t bytes_since_writeback_ = 0;  // committed (writer thread only)
  std::size_t blocked_producers_ = 0;
  std::vector<std::function<void(std::uint64_t)>> on_commit_;
  std::size_t queued_bytes_ = 0;   // both lanes
  std::size_t journal_bytes_ = 0;  // the journal lane's
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::uint64_t expedite_through_ = 0;  // a commit is due while the journal is behind this
  std::string failure_;
  writer_stats stats_;
  std::thread thread_;
};

}  // namespace shoal
