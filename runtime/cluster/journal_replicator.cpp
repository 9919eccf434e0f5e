#include "runtime/cluster/journal_replicator.hpp"

#include <spdlog/spdlog.h>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/journal_pull.hpp"
#include "runtime/graph/node_id.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

journal_replicator::journal_replicator(cluster_decl c, const store& db,
                                       std::shared_ptr<store_writer> writer,
                                       const std::string& config_packed)
    : c_(std::move(c)), db_(db), writer_(std::move(writer)), subject_(c_.journal_subject()) {
  link_ = std::make_unique<jetstream_link>(c_, "shoal engine " + c_.engine_id);
  link_->ensure_stream(c_);
  std::uint64_t in_cluster = 0;
  std::string cluster_last;
  const std::uint64_t local = db_.journal_last();
  if (auto last = last_journal_record(*link_, c_)) {
    in_cluster = last->seq;
    cluster_last = std::move(last->bytes);
    // Stand-ins written since the journal last went on: the dir must hold them as they are
    // (the dir of the process whose records they stand for, started again, holds the records).
    for (const std::uint64_t seq : last->lost)
      if (seq <= local)
        check_not_lost_here(c_, seq, lost_journal_record(c_.engine_id, seq), db_.journal_bytes(seq),
                            db_.dir());
  }
  if (in_cluster > 0 && in_cluster <= local) {
    // The dir must hold the record the cluster holds last, byte for byte: a dir of another
    // engine (or one that went on alone after a takeover elsewhere) is not merged in.
    if (db_.journal_bytes(in_cluster) != cluster_last)
      throw cluster_error("data dir " + db_.dir() + " is not engine " + c_.engine_id +
                          "'s: its journal record " + std::to_string(in_cluster) +
                          " differs from the one in stream " + c_.stream +
                          ". Start on the engine's own dir (or an empty one, which takes it over "
                          "from the cluster), or give this engine another [cluster] engine_id");
  }
  if (in_cluster > local) {
    catch_up_from_cluster(local, in_cluster);
    st_.replicated = in_cluster;  // read back whole: no hole below it
  } else {
    // A kill -9 in the middle of a batch may have left a hole below the last stored record (a
    // message lost with a server while the next one got through): the last batch goes again,
    // and what is stored already is acknowledged as a duplicate.
    st_.replicated = in_cluster > batch_records ? in_cluster - batch_records : 0;
  }
  st_.committed = writer_->committed_journal_seq();
  // A backlog left by an earlier run counts from now: when it was committed is not known (journal
  // records carry event time only), so after a restart its age reads short by the time before.
  age_.replicated(st_.replicated);
  age_.committed(st_.committed, std::chrono::steady_clock::now());
  st_.engine_id = c_.engine_id;
  st_.stream = c_.stream;
  st_.subject = subject_;
  st_.server = link_->connected_url();
  if (!config_packed.empty()) {
    // The config the journal runs through from here on, for `shoal replay --cluster`. Its id
    // names where the journal stands and the config's hash: a restart at the same point with
    // the same config stores nothing new, and the last one stored is always the latest.
    const std::vector<outgoing_message> m{{c_.engine_id +
                                               ":config:" + std::to_string(db_.journal_last()) +
                                               ":" + sha256_hex(config_packed).substr(0, 16),
                                           "", config_packed}};
    const auto r = link_->publish(c_.config_subject(), m, 5000);
    if (!r.error.empty()) throw cluster_error("recording the config in the cluster: " + r.error);
  }
  spdlog::info(
      "cluster: journal of engine {} goes to stream {} (subject {}) via {}; the cluster holds "
      "records through {}, the data dir through {}",
      c_.engine_id, c_.stream, subject_, st_.server, in_cluster, local);
  writer_->on_commit([this](std::uint64_t seq) { committed(seq); });
  thread_ = std::thread([this] { run(); });
}

// The data dir ends before the cluster's copy of its journal: a new host taking over the
// engine (an empty dir) or a dir restored from a backup. Its journal must be a prefix of the
// cluster's (its last record the same bytes); the records after it are appended, so the engine
// catches up through them like through its own journal tail.
void journal_replicator::catch_up_from_cluster(std::uint64_t local, std::uint64_t in_cluster) {
  const std::string last_local = db_.journal_bytes(local).value_or("");
  const auto t0 = std::chrono::steady_clock::now();
  const pulled_journal r = read_cluster_journal(
      *link_, c_, local > 0 ? local - 1 : 0,
      [&](std::uint64_t seq, std::string&& bytes) {
        if (seq == local) {
          if (bytes != last_local)
            throw cluster_error(
                "data dir " + db_.dir() + " is not engine " + c_.engine_id +
                "'s: its journal record " + std::to_string(seq) +
                " differs from the one in "
                "stream " +
                c_.stream +
                ". Start on the engine's own dir (or an empty one, "
                "which takes it over from the cluster), or give this engine another [cluster] "
                "engine_id");
          return;
        }
        append_to_journal(*writer_, std::move(bytes));
      },
      true,  // this process holds the engine's lease
      [&](std::uint64_t seq) { return db_.journal_bytes(seq); }, db_.dir());
  st_.journal_lost = r.lost;
  writer_->flush();
  spdlog::info(
      "cluster: data dir {} ended at journal record {}; took records {}..{} of engine {} from "
      "stream {} in {} ms",
      db_.dir(), local, local + 1, db_.journal_last(), c_.engine_id, c_.stream,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (db_.journal_last() < in_cluster)
    throw cluster_error("stream " + c_.stream + " gave engine " + c_.engine_id +
                        "'s journal through record " + std::to_string(db_.journal_last()) +
                        " only, its last message names record " + std::to_string(in_cluster) +
                        " (" + std::to_string(r.messages) + " messages read)");
}

journal_replicator::~journal_replicator() { stop(std::chrono::milliseconds(0)); }

void journal_replicator::on_replicated(std::function<void(std::uint64_t)> listener) {
  std::uint64_t now = 0;
  {
    std::lock_guard lock(mu_);
    on_replicated_.push_back(listener);
    now = st_.replicated;
  }
  if (now) listener(now);  // what was acknowledged before the listener came
}

void journal_replicator::committed(std::uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    if (seq <= st_.committed) return;
    st_.committed = seq;
    age_.committed(seq, std::chrono::steady_clock::now());
  }
  cv_.notify_all();
}

void journal_replicator::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    warn_of_lag(now);
    if (st_.replicated >= st_.committed) {
      if (stopping_) return;
      cv_.wait_for(lock, std::chrono::milliseconds(500));
      continue;
    }
    if (stopping_ && now >= drain_until_) return;
    const std::uint64_t committed = st_.committed;
    lock.unlock();
    const bool ok = send_batch(committed);
    lock.lock();
    if (!ok) {
      // The cluster is unreachable or has no leader for the stream yet: try again shortly.
      cv_.wait_for(lock, std::chrono::milliseconds(250),
                   [&] { return stopping_ && std::chrono::steady_clock::now() >= drain_until_; });
    }
  }
}

bool journal_replicator::send_batch(std::uint64_t committed) {
  std::uint64_t from = 0;
  {
    std::lock_guard lock(mu_);
    from = st_.replicated;
  }
  std::vector<std::pair<std::uint64_t, std::string>> records;
  db_.read_journal(
      from, static_cast<std::size_t>(std::min<std::uint64_t>(batch_records, committed - from)),
      [&](std::uint64_t seq, std::string_view bytes) {
        if (seq <= committed) records.emplace_back(seq, std::string(bytes));
      });
  if (records.empty()) return true;
  std::vector<outgoing_message> msgs;
  msgs.reserve(records.size());
  for (const auto& [seq, bytes] : records)
    msgs.push_back({c_.engine_id + ":" + std::to_string(seq), "", bytes});
  const publish_result r = link_->publish(subject_, msgs, 5000);
  std::unique_lock lock(mu_);
  st_.sent += r.stored;
  st_.duplicates += r.duplicates;
  st_.reconnects = link_->reconnects();
  st_.server = link_->connected_url();
  if (r.error.empty() && r.stored == msgs.size()) {
    st_.replicated = records.back().first;
    age_.replicated(st_.replicated);
    st_.stream_seq = std::max(st_.stream_seq, r.stream_seq);
    if (!on_replicated_.empty()) {
      const auto listeners = on_replicated_;
      lock.unlock();
      for (const auto& listener : listeners) listener(records.back().first);
    }
    return true;
  }
  if (st_.failures++ == 0 || st_.failures % 20 == 0)
    spdlog::warn(
        "cluster: journal records {}..{} not all acknowledged ({} of {}): {}; sending them again "
        "(failures so far: {})",
        records.front().first, records.back().first, r.stored, msgs.size(),
        r.error.empty() ? "missing acknowledgements" : r.error, st_.failures);
  st_.last_error = r.error;
  return false;
}

bool journal_replicator::stop(std::chrono::milliseconds drain) {
  std::lock_guard stopping(stop_mu_);  // a fence (lease thread) and the engine's stop may meet
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return st_.replicated >= st_.committed;
    stopping_ = true;
    drain_until_ = std::chrono::steady_clock::now() + drain;
    st_.committed = std::max(st_.committed, writer_->committed_journal_seq());
    age_.committed(st_.committed, std::chrono::steady_clock::now());
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  // What it did not send stays unsent, but its age stops here: a fenced process, which lives on,
  // must not look ever further behind (nothing of its sending is left to fix).
  stopped_at_ = std::chrono::steady_clock::now();
  if (st_.replicated < st_.committed)
    spdlog::warn(
        "cluster: journal records {}..{} are not in the cluster yet; they go at the next start "
        "on this data dir",
        st_.replicated + 1, st_.committed);
  return st_.replicated >= st_.committed;
}

void journal_replicator::warn_of_lag(std::chrono::steady_clock::time_point now) {
  const std::chrono::milliseconds lag = age_.age(now);
  switch (alarm_.observe(lag, now)) {
    case lag_alarm::step::warn:
      spdlog::warn(
          "cluster: the stream lacks journal records {}..{} of engine {}, the oldest committed "
          "{:.1f} s ago: a host lost now loses them. The cluster takes fewer records/s than this "
          "engine journals, or does not answer{}",
          st_.replicated + 1, st_.committed, c_.engine_id, lag.count() / 1000.0,
          st_.last_error.empty() ? std::string() : " (last error: " + st_.last_error + ")");
      break;
    case lag_alarm::step::ended:
      spdlog::info(
          "cluster: the stream holds engine {}'s journal again within {} ms (it had "
          "trailed by up to {:.1f} s)",
          c_.engine_id, lag.count(), alarm_.worst().count() / 1000.0);
      break;
    case lag_alarm::step::quiet:
      break;
  }
}

replication_stats journal_replicator::stats() const {
  std::lock_guard lock(mu_);
  replication_stats s = st_;
  s.lag_ms = age_.age(stopped_at_ ? *stopped_at_ : std::chrono::steady_clock::now()).count();
  return s;
}

}  // namespace shoal
