#include "runtime/cluster/output_exporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

namespace {

// What a stored output is read with: the engine wrote it (a non-finite double included, which
// must not keep its node out of the stream).
decode_limits stored_output_limits() {
  decode_limits l = stored_data_limits();
  l.allow_non_finite = true;
  return l;
}

std::uint64_t seq_of(std::string_view bytes) {
  return decode_output(bytes, stored_output_limits()).seq;
}

}  // namespace

output_exporter::output_exporter(cluster_decl c, const store& db,
                                 std::chrono::milliseconds gap_wait)
    : c_(std::move(c)), db_(db), gap_wait_(gap_wait) {
  link_ = std::make_unique<jetstream_link>(c_, "shoal " + c_.engine_id + " outputs");
  link_->ensure_stream(c_);
  thread_ = std::thread([this] { run(); });
}

output_exporter::~output_exporter() { stop(std::chrono::milliseconds(0)); }

void output_exporter::export_nodes(std::set<std::string> ids) {
  {
    std::lock_guard lock(mu_);
    if (ids == wanted_) return;
    wanted_ = std::move(ids);
    st_.nodes = wanted_.size();
  }
  cv_.notify_one();
}

bool output_exporter::stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_until_ = std::chrono::steady_clock::now() + drain;
    }
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return drained_;
}

output_export_stats output_exporter::stats() const {
  std::lock_guard lock(mu_);
  return st_;
}

void output_exporter::run() {
  for (;;) {
    std::set<std::string> wanted;
    bool stopping = false;
    std::chrono::steady_clock::time_point drain_until;
    {
      std::lock_guard lock(mu_);
      wanted = wanted_;
      stopping = stopping_;
      drain_until = drain_until_;
    }
    // A node dropped is forgotten: taken again later, it goes on from its subject's end then,
    // which another process may have moved meanwhile.
    std::erase_if(nodes_, [&](const auto& n) { return !wanted.count(n.first); });
    bool more = false;
    std::uint64_t behind = 0;
    for (const auto& id : wanted) {
      if (stopping && std::chrono::steady_clock::now() >= drain_until) break;
      node_state& n = nodes_[id];
      try {
        const batch_result b = export_batch(id, n);
        more = more || b.more;
        behind += b.unsent;
      } catch (const std::exception& e) {
        // A subject's end that cannot be read, a stored output that does not decode: said in
        // stats (admin `cluster`), tried again next pass.
        std::lock_guard lock(mu_);
        if (st_.last_error != e.what())
          spdlog::warn("cluster: outputs of node {} to the stream: {}", id.substr(0, 12), e.what());
        st_.last_error = e.what();
        ++st_.failures;
        ++behind;
      }
    }
    std::unique_lock lock(mu_);
    st_.behind = behind;
    ++st_.passes;
    if (stopping_) {
      drained_ = behind == 0 && !more;
      if (drained_ || std::chrono::steady_clock::now() >= drain_until_) return;
    }
    if (!more) cv_.wait_for(lock, pass_every);
  }
}

output_exporter::batch_result output_exporter::export_batch(const std::string& id, node_state& n) {
  const std::string subject = c_.output_subject(id);
  if (!n.known) {
    // Where the subject ends: one quick ask (the next pass asks again if the cluster is busy).
    if (const auto last = link_->last_message(c_.stream, subject, false)) {
      const Output o = decode_output(last->data, stored_output_limits());
      n.bucket = o.bucket;
      n.seq = o.seq;
    } else {
      n.bucket = INT64_MIN;
      n.seq = 0;
    }
    n.known = true;
  }
  auto stored = db_.outputs_of(id, n.bucket, batch_outputs);
  if (stored.empty()) {
    n.gap_since.reset();  // the stream caught up with what this process holds: no gap now
    return {};
  }
  // A node's seqs rise with its buckets: when the first and the last of the batch are as far
  // apart as the batch is long, the ones between are known without decoding them.
  std::vector<std::uint64_t> seqs(stored.size());
  seqs.front() = seq_of(stored.front().second);
  seqs.back() = seq_of(stored.back().second);
  const bool contiguous =
      seqs.back() >= seqs.front() && seqs.back() - seqs.front() == stored.size() - 1;
  for (std::size_t i = 1; i + 1 < stored.size(); ++i)
    seqs[i] = contiguous ? seqs.front() + i : seq_of(stored[i].second);
  if (seqs.front() > n.seq + 1) {
    // The subject ends before what this process holds: the missing seqs were made by a process
    // that is gone or has not sent them yet (its exporter behind). Wait for it, then go on.
    const auto now = std::chrono::steady_clock::now();
    if (!n.gap_since) {
      n.gap_since = now;
      spdlog::info(
          "cluster: the stream holds node {}'s outputs through seq {}, this process from seq {}: "
          "waiting up to {} ms for the process that made the ones between",
          id.substr(0, 12), n.seq, seqs.front(), gap_wait_.count());
    }
    if (now - *n.gap_since < gap_wait_) {
      n.known = false;  // read the subject's end again next pass
      return {false, stored.size()};
    }
    spdlog::warn(
        "cluster: node {}'s outputs seq {}..{} are not in the stream, and this process never "
        "held them: its subject goes on from seq {}",
        id.substr(0, 12), n.seq + 1, seqs.front() - 1, seqs.front());
    std::lock_guard lock(mu_);
    st_.gaps += seqs.front() - 1 - n.seq;
  }
  n.gap_since.reset();
  // An output larger than the servers take can never be stored: it is left out (said, counted
  // as a gap), not tried for ever with the node's later outputs behind it.
  bool cut = false;
  if (const std::size_t max = link_->max_payload(); max > 0) {
    const auto too_big = std::find_if(stored.begin(), stored.end(),
                                      [&](const auto& o) { return o.second.size() > max; });
    if (too_big == stored.begin()) {
      spdlog::error(
          "cluster: node {}'s output seq {} is {} bytes, more than the servers take "
          "(max_payload {}): it is not in the stream",
          id.substr(0, 12), seqs.front(), too_big->second.size(), max);
      n.bucket = stored.front().first;
      n.seq = seqs.front();
      std::lock_guard lock(mu_);
      ++st_.gaps;
      return {true, 0};
    }
    cut = too_big != stored.end();
    stored.erase(too_big, stored.end());
    seqs.resize(stored.size());
  }
  std::vector<outgoing_message> msgs;
  msgs.reserve(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i)
    msgs.push_back({c_.engine_id + ":" + id + ":" + std::to_string(seqs[i]), "", stored[i].second});
  const publish_result r = link_->publish(subject, msgs, 5000);
  std::lock_guard lock(mu_);
  st_.sent += r.stored;
  st_.duplicates += r.duplicates;
  if (!r.error.empty() || r.stored != msgs.size()) {
    // The whole batch again next pass: JetStream stores each id once, so what went through now
    // is acknowledged as a duplicate then, and a hole in it is filled.
    if (st_.failures++ == 0 || st_.failures % 20 == 0)
      spdlog::warn(
          "cluster: outputs seq {}..{} of node {} not all acknowledged by the stream ({} of {}): "
          "{}; sending them again",
          seqs.front(), seqs.back(), id.substr(0, 12), r.stored, msgs.size(),
          r.error.empty() ? "missing acknowledgements" : r.error);
    st_.last_error = r.error.empty() ? "missing acknowledgements" : r.error;
    return {false, stored.size()};
  }
  n.bucket = stored.back().first;
  n.seq = seqs.back();
  return {cut || stored.size() == batch_outputs, 0};
}

}  // namespace shoal
