#include "runtime/store/store_writer.hpp"

#include <algorithm>

#include "runtime/store/lmdb_calls.hpp"

namespace shoal {

using lmdb::check;
using lmdb::val;

store_writer::store_writer(store& s, options o)
    : store_(s),
      opt_(o),
      clock_(o.clock ? *o.clock : system_clock()),
      next_journal_(s.journal_last() + 1),
      committed_journal_(next_journal_ - 1) {
  thread_ = std::thread([this] { run(); });
}

store_writer::~store_writer() { stop(); }

bool store_writer::has_room() const {
  // An empty queue always takes the next record, however large: a single record above
  // max_queue_bytes must still go through (the writer commits it on its own).
  return stopping_ || queued_count() == 0 ||
         (queued_count() < opt_.max_queue && queued_bytes_ < opt_.max_queue_bytes);
}

bool store_writer::batch_due() const {
  return stopping_ || flush_requested_ || expedite_through_ > committed_journal_ ||
         blocked_producers_ > 0 || queued_count() >= opt_.max_batch ||
         queued_bytes_ >= opt_.max_queue_bytes;
}

void store_writer::wait_for_room(std::unique_lock<std::mutex>& lock) {
  if (!has_room()) {
    // A full queue is a due batch: the writer must hear of it, or nobody would ever make room.
    ++blocked_producers_;
    cv_.notify_one();
    done_cv_.wait(lock, [&] { return has_room(); });
    --blocked_producers_;
  }
  if (stopping_) throw store_error(failure_.empty() ? "store writer is stopped" : failure_);
}

void store_writer::push(op o, bool journal_lane) {
  std::deque<op>& lane = journal_lane ? journal_queue_ : queue_;
  const bool was_empty = lane.empty();
  const std::size_t bytes = o.key.size() + o.value.size();
  queued_bytes_ += bytes;
  if (journal_lane) journal_bytes_ += bytes;
  // Only each lane's oldest queued record's arrival is read (run()'s deadline): one clock read
  // per batch, not per record.
  if (was_empty) o.arrived = clock_.now();
  o.order = ++enqueued_;
  (journal_lane ? last_journal_queued_ : last_queued_) = o.order;
  lane.push_back(std::move(o));
  // The first record starts the writer's max_delay deadline; a due batch ends it early.
  if (was_empty || batch_due()) cv_.notify_one();
}

void store_writer::enqueue(op o) {
  std::unique_lock lock(mu_);
  wait_for_room(lock);
  push(std::move(o), false);
}

std::uint64_t store_writer::append_journal(std::string bytes) {
  std::unique_lock lock(mu_);
  wait_for_room(lock);  // before taking the seq, so seqs stay in queue order
  const std::uint64_t seq = next_journal_++;
  push(op{op_kind::journal, u64_key(seq), std::move(bytes), {}}, true);
  return seq;
}

std::uint64_t store_writer::append_journal_control(std::string bytes) {
  std::unique_lock lock(mu_);
  if (!controls_marked_) {
    wait_for_room(lock);
    push(op{op_kind::meta, store::controls_meta, "1", {}}, true);  // lands with or before it
    controls_marked_ = true;
  }
  wait_for_room(lock);
  const std::uint64_t seq = next_journal_++;
  push(op{op_kind::journal, u64_key(seq), std::move(bytes), {}}, true);
  return seq;
}

void store_writer::put_output(std::string_view id_hex, std::int64_t bucket, std::string bytes) {
  put_output(node_key(id_hex), bucket, std::move(bytes));
}

void store_writer::put_output(const node_key& id, std::int64_t bucket, std::string bytes) {
  enqueue(op{op_kind::output, id.output_key(bucket), std::move(bytes), {}});
}

void store_writer::put_state(std::string_view id_hex, std::string bytes) {
  enqueue(op{op_kind::state, output_key(id_hex, 0).substr(0, 32), std::move(bytes), {}});
}

void store_writer::erase_state(std::string_view id_hex) {
  enqueue(op{op_kind::erase_state, output_key(id_hex, 0).substr(0, 32), {}, {}});
}

void store_writer::put_ledger(std::string_view id_hex, std::int64_t segment, std::string bytes) {
  enqueue(op{op_kind::ledger, output_key(id_hex, segment), std::move(bytes), {}});
}

void store_writer::put_retired_state(std::string_view id_hex, std::string bytes) {
  enqueue(op{op_kind::ledger, output_key(id_hex, 0).substr(0, 32), std::move(bytes), {}});
}

void store_writer::retire_output(std::string_view id_hex, std::int64_t bucket, std::string bytes) {
  enqueue(op{op_kind::retire, output_key(id_hex, bucket), std::move(bytes), {}});
}

void store_writer::put_meta(std::string key, std::string value) {
  if (key == store::controls_meta || key == "time_modes") {
    // With the journal records they speak of (a "0" queued at start must not land after a
    // "1"; a stream's time mode read at a restart must be the one its journal holds), not
    // behind a backlog of outputs.
    std::unique_lock lock(mu_);
    wait_for_room(lock);
    push(op{op_kind::meta, std::move(key), std::move(value), {}}, true);
    return;
  }
  enqueue(op{op_kind::meta, std::move(key), std::move(value), {}});
}

void store_writer::group::put_state(std::string_view id_hex, std::string bytes) {
  ops_.push_back(op{op_kind::state, output_key(id_hex, 0).substr(0, 32), std::move(bytes), {}});
}

void store_writer::group::erase_state(std::string_view id_hex) {
  ops_.push_back(op{op_kind::erase_state, output_key(id_hex, 0).substr(0, 32), {}, {}});
}

void store_writer::group::put_meta(std::string key, std::string value) {
  ops_.push_back(op{op_kind::meta, std::move(key), std::move(value), {}});
}

void store_writer::put_group(group g) {
  std::unique_lock lock(mu_);
  wait_for_room(lock);
  for (std::size_t i = 0; i < g.ops_.size(); ++i) {
    g.ops_[i].group_continues = i + 1 < g.ops_.size();
    push(std::move(g.ops_[i]), false);
  }
}

void store_writer::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = last_queued_, journal_target = last_journal_queued_;
  flush_requested_ = true;
  cv_.notify_one();
  done_cv_.wait(lock, [&] {
    return (last_committed_ >= target && last_journal_committed_ >= journal_target) ||
           !failure_.empty();
  });
  // Asked while the writer was committing what it waited for: the next record, queued later,
  // waits for its own deadline again.
  if (queued_count() == 0) flush_requested_ = false;
  if (!failure_.empty()) throw store_error(failure_);
}

void store_writer::expedite(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  if (seq <= expedite_through_ || seq <= committed_journal_) return;
  expedite_through_ = seq;
  cv_.notify_one();
}

void store_writer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  done_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t store_writer::last_journal_seq() const {
  std::lock_guard lock(mu_);
  return next_journal_ - 1;
}

std::uint64_t store_writer::committed_journal_seq() const {
  std::lock_guard lock(mu_);
  return committed_journal_;
}

void store_writer::on_commit(std::function<void(std::uint64_t)> listener) {
  std::lock_guard lock(mu_);
  on_commit_.push_back(std::move(listener));
}

std::size_t store_writer::queued() const {
  std::lock_guard lock(mu_);
  return queued_count();
}

writer_stats store_writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::deque<store_writer::op> store_writer::take_journal(std::uint64_t must_precede) {
  std::deque<op> taken;
  std::size_t bytes = 0;
  {
    std::lock_guard lock(mu_);
    while (!journal_queue_.empty() &&
           (journal_queue_.front().order < must_precede || bytes < opt_.max_txn_bytes)) {
      op& o = journal_queue_.front();
      const std::size_t b = o.key.size() + o.value.size();
      bytes += b;
      journal_bytes_ -= b;
      queued_bytes_ -= b;
      taken.push_back(std::move(o));
      journal_queue_.pop_front();
    }
  }
  if (!taken.empty()) done_cv_.notify_all();  // room again for waiting producers
  return taken;
}

void store_writer::commit(std::deque<op>& batch) {
  std::size_t first = 0;
  do {
    // The next transaction: batch's ops up to max_txn_bytes (a group whole), and the journal
    // records queued before the last of them, and any more that arrived meanwhile (up to
    // max_txn_bytes too): those wait for no backlog.
    std::size_t last = first, bytes = 0;
    while (last < batch.size()) {
      bytes += batch[last].key.size() + batch[last].value.size();
      ++last;
      if (bytes >= opt_.max_txn_bytes && !batch[last - 1].group_continues) break;
    }
    std::deque<op> journal = take_journal(last > first ? batch[last - 1].order : 0);
    if (journal.empty() && last == first) break;
    commit_txn(journal, batch, first, last);
    bytes_since_writeback_ += bytes;
    for (const auto& o : journal) bytes_since_writeback_ += o.key.size() + o.value.size();
    first = last;
  } while (first < batch.size());
  // A store that is synced once at the end (a replay's --out) would otherwise leave all its
  // writing to that sync: start it now and then, while the graph computes.
  if (bytes_since_writeback_ >= opt_.writeback_bytes) {
    store_.start_writeback();
    bytes_since_writeback_ = 0;
  }
}

void store_writer::commit_txn(std::deque<op>& journal, std::deque<op>& batch, std::size_t first,
                              std::size_t last) {
  const auto t0 = std::chrono::steady_clock::now();
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(store_.env(), nullptr, 0, &txn), "begin write");
  auto write = [&](op& o) {
    MDB_val k = val(o.key), v = val(o.value);
    unsigned dbi = 0, flags = 0;
    switch (o.kind) {
      case op_kind::journal:
        dbi = store_.db_journal();
        flags = MDB_APPEND;
        break;
      case op_kind::output:
        dbi = store_.db_outputs();
        break;
      case op_kind::state:
        dbi = store_.db_state();
        break;
      case op_kind::meta:
        dbi = store_.db_meta();
        break;
      case op_kind::ledger:
        dbi = store_.db_ledger();
        break;
      case op_kind::retire: {
        check(mdb_put(txn, store_.db_retired(), &k, &v, 0), "put");
        const int rc = mdb_del(txn, store_.db_outputs(), &k, nullptr);
        if (rc != MDB_NOTFOUND) check(rc, "delete");
        return;
      }
      case op_kind::erase_state: {
        const int rc = mdb_del(txn, store_.db_state(), &k, nullptr);
        if (rc != MDB_NOTFOUND) check(rc, "delete");
        return;
      }
    }
    check(mdb_put(txn, dbi, &k, &v, flags), "put");
  };
  try {
    for (op& o : journal) write(o);
    for (std::size_t i = first; i < last; ++i) write(batch[i]);
    check(mdb_txn_commit(txn), "commit");
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::uint64_t last_journal = 0;
  for (auto it = journal.rbegin(); it != journal.rend(); ++it)
    if (it->kind == op_kind::journal) {
      last_journal = read_u64_key(it->key);
      break;
    }
  std::vector<std::function<void(std::uint64_t)>> listeners;
  std::uint64_t committed_journal = 0;
  {
    std::lock_guard lock(mu_);
    stats_.records += journal.size() + (last - first);
    stats_.commits += 1;
    stats_.commit_ns += static_cast<std::uint64_t>(ns);
    std::size_t b = 0;
    while (b < commit_bounds_s.size() && ns / 1e9 > commit_bounds_s[b]) ++b;
    ++stats_.commit_counts[b];
    if (last_journal) committed_journal_ = last_journal;
    committed_journal = committed_journal_;
    listeners = on_commit_;
  }
  for (const auto& listener : listeners) listener(committed_journal);
  {
    // Only now is flush() done: what it waited for is committed and the listeners heard of it.
    std::lock_guard lock(mu_);
    if (!journal.empty()) last_journal_committed_ = journal.back().order;
    if (last > first) last_committed_ = batch[last - 1].order;
  }
  done_cv_.notify_all();
}

void store_writer::run() {
  std::deque<op> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || queued_count() > 0; });
      if (queued_count() == 0) break;  // stopping with nothing left
      // Group commit: everything queued goes in once a batch is due, and at the latest
      // max_delay after the oldest queued record arrived (either lane's).
      auto oldest = clock::time_point::max();
      if (!queue_.empty()) oldest = queue_.front().arrived;
      if (!journal_queue_.empty()) oldest = std::min(oldest, journal_queue_.front().arrived);
      clock_.wait_until(lock, cv_, oldest + opt_.max_delay, [&] { return batch_due(); });
      queued_bytes_ = journal_bytes_;  // the journal lane is taken transaction by transaction
      batch.swap(queue_);
      flush_requested_ = false;
    }
    done_cv_.notify_all();  // room again for waiting producers
    try {
      commit(batch);
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      failure_ = e.what();
      stopping_ = true;
      queue_.clear();
      journal_queue_.clear();
      done_cv_.notify_all();
      return;
    }
    batch.clear();
  }
}

}  // namespace shoal
