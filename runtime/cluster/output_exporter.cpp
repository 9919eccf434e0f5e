#include "runtime/cluster/output_exporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/output_seek.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

namespace {

std::uint64_t seq_of(std::string_view bytes) {
  return decode_output(bytes, stored_output_limits()).seq;
}

// What an output's message adds to its bytes against the servers' max_payload, which holds for
// the headers too: the message id's, the header block's own bytes, and a filled seq's Shoal-End.
std::size_t header_bytes(const cluster_decl& c, const std::string& id, bool end = false) {
  return 64 + c.engine_id.size() + id.size() + 20 + (end ? 64 : 0);
}

// A filled seq's Shoal-End header: the subject's end (seq, bucket) when it was sent below it.
std::string end_header(std::uint64_t seq, std::int64_t bucket) {
  return std::to_string(seq) + " " + std::to_string(bucket);
}

// "seqs 3, 5..9, 12" (or "seq 3") for the log, at most ten runs.
std::string seq_runs(const std::vector<std::uint64_t>& seqs) {
  std::string out = seqs.size() == 1 ? "seq " : "seqs ";
  const std::size_t head = out.size();
  std::size_t runs = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    std::size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
    if (++runs > 10) return out + ", ...";
    out += (out.size() == head ? "" : ", ") + std::to_string(seqs[i]);
    if (j > i) out += ".." + std::to_string(seqs[j]);
    i = j;
  }
  return out;
}

}  // namespace

output_exporter::output_exporter(cluster_decl c, const store& db,
                                 std::function<std::uint64_t()> replicated,
                                 std::chrono::milliseconds gap_wait)
    : c_(std::move(c)), db_(db), replicated_(std::move(replicated)), gap_wait_(gap_wait) {
  if (!replicated_) replicated_ = [] { return UINT64_MAX; };
  link_ = std::make_unique<jetstream_link>(c_, "shoal " + c_.engine_id + " outputs");
  link_->ensure_stream(c_);
  thread_ = std::thread([this] { run(); });
}

output_exporter::~output_exporter() { stop(std::chrono::milliseconds(0)); }

void output_exporter::export_nodes(std::set<std::string> ids, std::set<std::string> filling,
                                   std::map<std::string, std::uint64_t> until) {
  {
    std::lock_guard lock(mu_);
    filling_ = std::move(filling);
    // A node given back, or given again up to another seq: its subject's end is read again,
    // also when this happens within one pass (the thread takes these at the next).
    for (const auto& [id, seq] : until_) {
      const auto now_until = until.find(id);
      if (now_until == until.end() || now_until->second != seq) ungiven_.insert(id);
    }
    until_ = std::move(until);
    // Said of the given nodes still given with the same seq only (one given again later goes on).
    std::erase_if(given_through_, [&](const auto& g) {
      const auto u = until_.find(g.first);
      return u == until_.end() || u->second != g.second;
    });
    if (ids == wanted_) return;
    // Dropped and taken again before the next pass: forgotten all the same.
    for (const auto& id : wanted_)
      if (!ids.count(id)) dropped_.insert(id);
    wanted_ = std::move(ids);
    st_.nodes = nodes_now();
  }
  wake_->wake();
}

bool output_exporter::stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_until_ = std::chrono::steady_clock::now() + drain;
    }
  }
  wake_->wake();
  {
    // A read of a subject's end in progress waits for the cluster up to 5 s: past the drain,
    // the connection is closed under it (it fails at once). A send in progress still waits for
    // its acknowledgements (nats.c does not end that wait on a close): up to 5 s more.
    std::unique_lock lock(mu_);
    if (!finished_cv_.wait_until(lock, drain_until_ + std::chrono::milliseconds(200),
                                 [&] { return finished_; })) {
      lock.unlock();
      link_->close();
    }
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return drained_;
}

std::map<std::string, std::uint64_t> output_exporter::given_through() const {
  std::lock_guard lock(mu_);
  return given_through_;
}

output_export_stats output_exporter::stats() const {
  std::lock_guard lock(mu_);
  return st_;
}

std::function<void(std::uint64_t)> output_exporter::waker() const {
  return [w = wake_](std::uint64_t) { w->wake(); };
}

void output_exporter::wake_signal::wake() {
  {
    std::lock_guard lock(mu);
    woken = true;
  }
  cv.notify_one();
}

void output_exporter::wake_signal::clear() {
  std::lock_guard lock(mu);
  woken = false;
}

bool output_exporter::wake_signal::wait_for(std::chrono::microseconds d) {
  std::unique_lock lock(mu);
  cv.wait_for(lock, d, [&] { return woken; });
  return std::exchange(woken, false);
}

void output_exporter::run() {
  loop();
  std::lock_guard lock(mu_);
  finished_ = true;
  finished_cv_.notify_all();
}

void output_exporter::loop() {
  bool woken = true;  // the first pass looks at every node
  for (;;) {
    std::set<std::string> wanted, filling;
    std::map<std::string, std::uint64_t> until;
    std::set<std::string> ungiven, dropped;
    bool stopping = false;
    std::chrono::steady_clock::time_point drain_until;
    {
      std::lock_guard lock(mu_);
      wanted = wanted_;
      filling = filling_;
      until = until_;
      ungiven.swap(ungiven_);
      dropped.swap(dropped_);
      stopping = stopping_;
      drain_until = drain_until_;
    }
    // A node dropped (a node given away too, once the stream holds it through the seq its new
    // process publishes after) is forgotten: taken again later, it goes on from its subject's
    // end then, which another process may have moved meanwhile. Unless its batch fails: that
    // batch still goes (left_).
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      if (wanted.count(it->first) && !dropped.count(it->first)) {
        ++it;
        continue;
      }
      if (it->second.failing_since) left_.insert_or_assign(it->first, std::move(it->second));
      it = nodes_.erase(it);
    }
    // Taken again while its batch fails: the batch goes on, then the subject's end is read.
    for (auto it = left_.begin(); it != left_.end();) {
      if (!wanted.count(it->first)) {
        ++it;
        continue;
      }
      it->second.read_end_after = true;
      it->second.look_at_holes_again();
      nodes_.insert_or_assign(it->first, std::move(it->second));
      it = left_.erase(it);
    }
    // A node given away and given back before it was dropped: its subject's end is read again
    // (the process it went to may have sent past what this one knows of it).
    for (const auto& id : ungiven) {
      const auto n = nodes_.find(id);
      if (n == nodes_.end()) continue;
      // While a batch fails, once it went through: it goes again as it was first (a hole in it
      // filled).
      if (n->second.failing_since) {
        n->second.read_end_after = true;
      } else {
        n->second.known = false;
      }
      n->second.look_at_holes_again();  // the other process may have left some
    }
    // A whole pass when woken (a commit may have stored outputs, an acknowledgement may free
    // held ones), while a node has more, and every pass_every; between them, every
    // held_recheck, only the nodes whose outputs wait for the journal's replication.
    const auto started = std::chrono::steady_clock::now();
    const bool whole = woken || last_more_ || started - last_whole_ >= pass_every;
    const std::uint64_t replicated = replicated_();
    // Every node's last stored bucket and the journal's end, in one read: a node with nothing
    // new costs no more read.
    std::optional<store::output_ends_read> ends;
    if (whole) {
      last_whole_ = started;
      wake_->clear();  // what woke this pass is seen by its read
      try {
        ends = db_.output_ends(wanted);
      } catch (const std::exception& e) {
        // A read the data dir refused (its readers' table full): said, tried again next pass;
        // the held nodes go on meanwhile.
        std::lock_guard lock(mu_);
        if (st_.last_error != e.what())
          spdlog::warn("cluster: outputs to the stream: reading the data dir: {}", e.what());
        st_.last_error = e.what();
        ++st_.failures;
      }
      // The read's length, not the sends' (their acknowledgements are waited for, not worked);
      // at most pass_every, the longest a pass waits anyway.
      whole_gap_ = std::clamp<std::chrono::microseconds>(
          3 * std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started),
          min_gap, pass_every);
    }
    const bool read = ends.has_value();
    bool more = false, cut_short = false;
    std::uint64_t behind = 0;
    for (const auto& id : wanted) {
      if (stopping && std::chrono::steady_clock::now() >= drain_until) {
        cut_short = true;  // the nodes left may hold outputs not sent
        break;
      }
      node_state& n = nodes_[id];
      const auto u = until.find(id);
      const std::uint64_t through = u == until.end() ? UINT64_MAX : u->second;
      if (u != until.end() && n.known && n.seq >= through) {
        // Given away, and the stream holds what it owed: the process it went to has the seqs
        // after. Nothing of it is held or to send any more.
        n.holds.clear();
        n.unsent = 0;
        std::lock_guard lock(mu_);
        // Unless given back (or given again) since this pass began.
        if (const auto now_until = until_.find(id);
            now_until != until_.end() && now_until->second == through)
          given_through_.insert_or_assign(id, through);
        continue;
      }
      if (!read && n.holds.empty()) {
        behind += n.unsent;
        continue;
      }
      // (A look at the subject's holes due again goes on: seqs it lacked may be stored now.)
      if (read && n.known && n.holds.empty() && !n.gap_since && !n.failing_since &&
          (n.holes_checked || !n.holes_since || started < n.holes_look_again)) {
        const auto last = ends->last_bucket.find(id);
        if (last == ends->last_bucket.end() || last->second <= n.bucket) {
          n.unsent = 0;  // the stream has every output stored
          // Given away, short of the seq it owes, with nothing more stored, held or failing:
          // the process it went to sends the rest (this one stops computing the node, and may
          // not make them all). The subject's end is read again now and then, to see them
          // there. Not before: what it holds may be missing from the stream.
          if (u == until.end() || started < n.look_again) continue;
          n.known = false;
          n.look_again = started + given_recheck;
        }
      }
      try {
        const batch_result b = export_batch(id, n, filling.count(id) != 0, replicated,
                                            read ? &*ends : nullptr, through);
        more = more || b.more;
        n.unsent = b.unsent;
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
    // The failing batches of nodes dropped, on whole passes (as a failing node's): done once
    // acknowledged whole (through the batch's last seq), or given up (half the duplicate
    // window).
    for (auto it = left_.begin(); read && !cut_short && it != left_.end();) {
      if (stopping && std::chrono::steady_clock::now() >= drain_until) {
        cut_short = true;
        break;
      }
      node_state& n = it->second;
      if (n.failing_since &&
          started - *n.failing_since > std::chrono::nanoseconds(c_.duplicate_window_ns / 2)) {
        // Also when each try fails before it sends (the subject's end not read, a stored output
        // that does not decode): a resend now could store copies.
        spdlog::warn(
            "cluster: outputs of node {} through seq {}, dropped while they failed, did not reach "
            "the stream within half the duplicate window: those it lacks stay out of it",
            it->first.substr(0, 12), n.failing_through);
        it = left_.erase(it);
        continue;
      }
      try {
        behind +=
            export_batch(it->first, n, false, replicated, nullptr, n.failing_through, true).unsent;
      } catch (const std::exception& e) {
        std::lock_guard lock(mu_);
        if (st_.last_error != e.what())
          spdlog::warn("cluster: outputs of node {} to the stream: {}", it->first.substr(0, 12),
                       e.what());
        st_.last_error = e.what();
        ++st_.failures;
        ++behind;
      }
      if (!n.failing_since || (n.known && n.seq >= n.failing_through)) {
        it = left_.erase(it);
      } else {
        ++it;
      }
    }
    // Outputs held for the journal's replication go as soon as it is there (a batch of it, a
    // few ms), not a whole pass later.
    std::size_t holds = 0;
    for (const auto& n : nodes_) holds += n.second.holds.size();
    const bool held = holds > 0;
    {
      std::lock_guard lock(mu_);
      st_.behind = behind;
      st_.holds = holds;
      // With the nodes dropped whose failing batch still goes.
      left_ids_.clear();
      for (const auto& l : left_) left_ids_.insert(l.first);
      st_.nodes = nodes_now();
      st_.reads = reads_;
      ++st_.passes;
      last_more_ = more;
      if (stopping_) {
        // Only a pass begun once the stop was asked: one begun before may have read the data
        // dir before the last commit (the stop comes after the store writer's).
        drained_ = stopping && behind == 0 && !more && !held && !cut_short && read;
        if (drained_ || std::chrono::steady_clock::now() >= drain_until_) return;
        last_more_ = true;  // draining: every node, every pass
        more = more || !stopping;  // the next pass at once (this one may have taken the wake)
      }
    }
    woken = false;
    if (!more) {
      woken = wake_->wait_for(held ? held_recheck : pass_every);
      // Commits come every few ms under a feed: the next whole pass waits for its gap.
      if (woken) std::this_thread::sleep_until(last_whole_ + whole_gap_);
    }
  }
}

output_exporter::batch_result output_exporter::export_batch(const std::string& id, node_state& n,
                                                            bool filling, std::uint64_t replicated,
                                                            const store::output_ends_read* ends,
                                                            std::uint64_t until, bool left) {
  const std::string subject = c_.output_subject(id);
  const auto now = std::chrono::steady_clock::now();
  if (!n.known && n.gap_since && now < n.look_again) return {false, n.waiting};
  if (!n.known) {
    // Where the subject ends: one quick ask (the next pass asks again if the cluster is busy).
    // A seq filled below the end (fill_holes) may be last, the batch after it in the same
    // publish not all gone: the end it names is the subject's.
    if (const auto end = output_subject_end(*link_, c_.stream, subject, false)) {
      n.bucket = end->bucket;
      n.seq = end->seq;
    } else {
      n.bucket = INT64_MIN;
      n.seq = 0;
    }
    n.known = true;
  }
  // Only outputs whose inputs are in the stream: a process that dies with journal records the
  // stream lacks has outputs of them that its heir, which goes on from the stream, may never
  // make (a feed it did not journal). Every output the store holds came from journal records
  // committed before it (store_writer): the outputs through the last bucket stored may go once
  // the stream holds the journal as the same read found it (`ends`). Each pass that
  // finds newer outputs holds them so (a queue: under a steady feed and a lagging replication
  // each goes as soon as its own records are there, not after the journal's end now).
  bool opened = false;
  while (!n.holds.empty() && n.holds.front().journal <= replicated) {
    n.open_through = std::max(n.open_through, n.holds.front().through);
    n.holds.pop_front();
    opened = true;
  }
  // A pass between whole ones looks only at whether the replication freed held outputs: when it
  // freed none, a read would find what the last one found (a node's outputs read every
  // held_recheck, for as long as a replication lags or the cluster is away, only to be held).
  if (!ends && !opened && !n.gap_since && !n.failing_since) return {false, n.unsent};
  if (ends) {
    if (const auto stored = ends->last_bucket.find(id); stored != ends->last_bucket.end()) {
      const std::int64_t last = stored->second;
      if (last > (n.holds.empty() ? n.open_through : n.holds.back().through)) {
        if (ends->journal_last <= replicated) {
          n.open_through = last;
        } else if (n.holds.size() >= max_holds) {
          n.holds.back() = {ends->journal_last, last};
        } else {
          n.holds.push_back({ends->journal_last, last});
        }
      }
    }
  }
  ++reads_;
  auto stored = db_.outputs_of(id, n.bucket, batch_outputs);
  const std::size_t read = stored.size();
  const std::int64_t open = n.open_through;
  std::erase_if(stored, [&](const auto& o) { return o.first > open; });
  const std::size_t waiting = read - stored.size();  // for the journal's replication
  if (stored.empty()) {
    if (read == 0) {
      n.gap_since.reset();      // the stream has all this process holds: no gap now
      n.failing_since.reset();  // nor a failed batch to send again (its outputs are gone)
    }
    // A look at the holes begun with a batch comes again without one (seqs it lacked, since
    // stored): what it finds goes alone, naming the subject's end (Shoal-End).
    if (n.holes_since && !n.holes_checked && !left && !n.failing_since && !n.read_end_after) {
      if (const std::vector<fill> fills = look_at_holes(id, n, filling, until); !fills.empty()) {
        const std::vector<outgoing_message> msgs = fill_messages(id, n, fills);
        const publish_result r = link_->publish(subject, msgs, 5000);
        std::lock_guard lock(mu_);
        st_.sent += r.stored;
        st_.duplicates += r.duplicates;
        if (!r.error.empty() || r.stored != msgs.size()) {
          fills_failed(id, n, true, r.error.empty() ? "missing acknowledgements" : r.error);
        } else {
          fills_sent(id, n, fills, r.duplicates, n.seq);
        }
      }
    }
    return {false, waiting};
  }
  // More may go at once when the whole batch read could.
  const bool full = read == batch_outputs && waiting == 0;
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
    // that is gone or has not sent them yet (its exporter behind). Wait for it, then go on;
    // once (a batch after the gap that failed, or the node taken again, comes here again).
    std::uint64_t& counted = gaps_counted_[id];
    if (counted < seqs.front() - 1) {
      if (!n.gap_since) {
        n.gap_since = now;
        if (filling)
          spdlog::info(
              "cluster: the stream holds node {}'s outputs through seq {}, this process from seq "
              "{}: they go on once it made the ones before (a backfill), or the process that "
              "made them sent them",
              id.substr(0, 12), n.seq, seqs.front());
        else
          spdlog::info(
              "cluster: the stream holds node {}'s outputs through seq {}, this process from seq "
              "{}: waiting up to {} ms for the process that made the ones between",
              id.substr(0, 12), n.seq, seqs.front(), gap_wait_.count());
      }
      if (filling || now - *n.gap_since < gap_wait_) {
        n.known = false;  // read the subject's end again, in a while
        n.look_again =
            now + std::min<std::chrono::milliseconds>(gap_wait_ / 5, std::chrono::seconds(1));
        n.waiting = read;
        return {false, n.waiting};
      }
      spdlog::warn(
          "cluster: node {}'s outputs seq {}..{} are not in the stream, and this process never "
          "held them: its subject goes on from seq {}",
          id.substr(0, 12), n.seq + 1, seqs.front() - 1, seqs.front());
      // Of a node given away, those after `until` are not missing: its new process sends them.
      const std::uint64_t top = std::min(seqs.front() - 1, std::max(until, n.seq));
      const std::uint64_t base = std::max(n.seq, counted);
      counted = seqs.front() - 1;
      std::lock_guard lock(mu_);
      if (top > base) st_.gaps += top - base;
    }
    n.holes_checked = true;  // this process does not hold outputs near the subject's end
  }
  n.gap_since.reset();
  // A node given away: nothing after the seq its new process publishes after (that one sends
  // those; sent from here too, after the duplicate window, they would be stored twice).
  if (seqs.back() > until) {
    const auto keep =
        static_cast<std::size_t>(std::upper_bound(seqs.begin(), seqs.end(), until) - seqs.begin());
    stored.resize(keep);
    seqs.resize(keep);
    if (stored.empty()) {
      // This process holds nothing more up to it (the subject's end is there already, or it
      // went on past a gap): done with it.
      n.seq = std::max(n.seq, until);
      return {false, 0};
    }
  }
  // An output larger than the servers take can never be stored: it is left out (said, counted
  // as a gap), not tried for ever with the node's later outputs behind it.
  bool cut = false;
  if (const std::size_t max = link_->max_payload(); max > 0) {
    const std::size_t headers = header_bytes(c_, id);
    const auto too_big = std::find_if(stored.begin(), stored.end(), [&](const auto& o) {
      return o.second.size() + headers > max;
    });
    if (too_big == stored.begin()) {
      spdlog::error(
          "cluster: node {}'s output seq {} is {} bytes, more than the servers take "
          "(max_payload {}): it is not in the stream",
          id.substr(0, 12), seqs.front(), too_big->second.size(), max);
      n.bucket = stored.front().first;
      n.seq = seqs.front();
      std::lock_guard lock(mu_);
      ++st_.gaps;
      return {true, waiting};
    }
    cut = too_big != stored.end();
    stored.erase(too_big, stored.end());
    seqs.resize(stored.size());
  }
  // Taken (a start, a take, a move, given back): the seqs below the subject's end are looked
  // at, now that this process holds outputs after it (so holds whatever it may of those). Not
  // while the node's own batch fails (it goes again as it was), nor for a batch of a node
  // dropped. Those it holds go at the front of this batch: a newer seq still ends the subject,
  // which every read of its end relies on.
  std::vector<fill> fills;
  if (!n.holes_checked && !left && !n.failing_since && !n.read_end_after)
    fills = look_at_holes(id, n, filling, until);
  std::vector<outgoing_message> msgs = fill_messages(id, n, fills);
  msgs.reserve(fills.size() + stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i)
    msgs.push_back({msg_id(id, seqs[i]), "", stored[i].second});
  const publish_result r = link_->publish(subject, msgs, 5000);
  std::lock_guard lock(mu_);
  st_.sent += r.stored;
  st_.duplicates += r.duplicates;
  if (!r.error.empty() || r.stored != msgs.size()) {
    // The whole batch again next pass: JetStream stores each id once, so what went through now
    // is acknowledged as a duplicate then, and a hole in it is filled (a seq stored after later
    // ones: `tail --from-stream` prints it when it comes). That holds within duplicate_window:
    // a batch failing for half of it reads the subject's end again and goes on after it.
    if (!n.failing_since) n.failing_since = now;
    n.failing_through = seqs.back();
    if (!fills.empty()) fills_failed(id, n, false, {});
    if (now - *n.failing_since > std::chrono::nanoseconds(c_.duplicate_window_ns / 2)) {
      // What went through of it may have a hole that a resend now would no longer fill without
      // adding copies: said, and the subject goes on after its end.
      spdlog::warn(
          "cluster: outputs of node {} have failed to reach the stream for half the duplicate "
          "window: going on after the subject's last seq; of seqs {}..{}, those the stream "
          "lacks then stay out of it",
          id.substr(0, 12), seqs.front(), seqs.back());
      n.known = false;
      n.failing_since.reset();
    }
    if (st_.failures++ == 0 || st_.failures % 20 == 0)
      spdlog::warn(
          "cluster: outputs seq {}..{} of node {} not all acknowledged by the stream ({} of {}): "
          "{}; sending them again",
          seqs.front(), seqs.back(), id.substr(0, 12), r.stored, msgs.size(),
          r.error.empty() ? "missing acknowledgements" : r.error);
    st_.last_error = r.error.empty() ? "missing acknowledgements" : r.error;
    return {false, read};
  }
  n.failing_since.reset();
  if (!fills.empty()) fills_sent(id, n, fills, r.duplicates, n.seq);
  n.bucket = stored.back().first;
  n.seq = seqs.back();
  // Given back while this batch failed: the process it went to may have sent past it.
  if (std::exchange(n.read_end_after, false)) {
    n.known = false;
    n.look_at_holes_again();
  }
  return {cut || full, waiting};
}

std::string output_exporter::msg_id(const std::string& id, std::uint64_t seq) const {
  return c_.engine_id + ":" + id + ":" + std::to_string(seq);
}

std::vector<outgoing_message> output_exporter::fill_messages(const std::string& id,
                                                             const node_state& n,
                                                             const std::vector<fill>& fills) const {
  std::vector<outgoing_message> msgs;
  for (const fill& f : fills)
    msgs.push_back({msg_id(id, f.seq), "", f.bytes, end_header(n.seq, n.bucket)});
  return msgs;
}

void output_exporter::fills_sent(const std::string& id, node_state& n,
                                 const std::vector<fill>& fills, std::size_t duplicates,
                                 std::uint64_t end) {
  std::vector<std::uint64_t> filled;
  for (const fill& f : fills) filled.push_back(f.seq);
  spdlog::warn(
      "cluster: node {}'s subject lacked {} below its end (seq {}), left by the process that "
      "sent it before: sent them from this process's outputs",
      id.substr(0, 12), seq_runs(filled), end);
  n.holes_failing_since.reset();
  // Less those another process sent meanwhile (a duplicate: counted as if among the fills).
  st_.filled += fills.size() - std::min(fills.size(), duplicates);
  // A later look (a seq it lacked, stored since) leaves them out: they may lie past where it
  // stops reading the subject.
  n.holes_filled.insert(n.holes_filled.end(), filled.begin(), filled.end());
  std::sort(n.holes_filled.begin(), n.holes_filled.end());
}

void output_exporter::fills_failed(const std::string& id, node_state& n, bool alone,
                                   const std::string& error) {
  // They may not have gone: looked at again, reading the stream (some may be there now).
  n.holes_checked = false;
  n.holes_lacking.clear();
  n.holes_look_again = {};
  if (!alone) return;  // at once: the batch they went with goes again without them first
  const auto now = std::chrono::steady_clock::now();
  if (!n.holes_failing_since) n.holes_failing_since = now;
  const bool give_up =
      now - *n.holes_failing_since > std::chrono::nanoseconds(c_.duplicate_window_ns / 2);
  if (st_.last_error != error || give_up)
    spdlog::warn("cluster: node {}'s seqs missing below its subject's end: sending them: {}{}",
                 id.substr(0, 12), error, give_up ? "; not looked at again" : "");
  st_.last_error = error;
  ++st_.failures;
  n.holes_checked = give_up;
  n.holes_look_again = now + holes_step();
}

std::chrono::milliseconds output_exporter::holes_step() const {
  return std::min<std::chrono::milliseconds>(gap_wait_ / 5, std::chrono::seconds(1));
}

std::vector<output_exporter::fill> output_exporter::look_at_holes(const std::string& id,
                                                                  node_state& n, bool filling,
                                                                  std::uint64_t until) {
  const auto now = std::chrono::steady_clock::now();
  if (now < n.holes_look_again) return {};
  if (!n.holes_since) n.holes_since = now;
  // Seqs it lacks may still come: its backfill stores them, or the process that gave the node
  // away sends them (as a gap before what it holds is waited for).
  const bool wait = filling || now - *n.holes_since < gap_wait_;
  const auto step = holes_step();
  std::vector<fill> fills;
  try {
    // Waiting for seqs it lacked: the stream is read again only once the data dir holds some.
    if (wait && !n.holes_lacking.empty() && !holds_lacking(id, n)) {
      n.holes_look_again = now + step;
      return {};
    }
    if (!fill_holes(id, n, until, fills)) {
      n.holes_checked = true;
      return {};
    }
    // Failing no more, unless what it found is still to go (fills_sent says when it went).
    if (fills.empty()) n.holes_failing_since.reset();
  } catch (const std::exception& e) {
    if (!n.holes_failing_since) n.holes_failing_since = now;
    const bool give_up =
        now - *n.holes_failing_since > std::chrono::nanoseconds(c_.duplicate_window_ns / 2);
    std::lock_guard lock(mu_);
    if (st_.last_error != e.what() || give_up)
      spdlog::warn("cluster: node {}'s seqs missing below its subject's end: {}{}",
                   id.substr(0, 12), e.what(), give_up ? "; not looked at again" : "");
    st_.last_error = e.what();
    ++st_.failures;
    n.holes_checked = give_up;
    n.holes_look_again = now + step;
    return {};
  }
  if (n.holes_lacking.empty()) {
    n.holes_checked = true;
  } else if (wait) {
    n.holes_look_again = now + step;
  } else {
    // The wait is over: those it still lacks stay out of the stream.
    n.holes_checked = true;
    std::uint64_t& counted = gaps_counted_[id];
    std::vector<std::uint64_t> lacking = n.holes_lacking;
    std::erase_if(lacking, [&](std::uint64_t q) { return q <= counted; });
    if (!lacking.empty()) {
      spdlog::warn(
          "cluster: node {}'s subject lacks {} below its end (seq {}), and this process does not "
          "hold them: they stay out of it",
          id.substr(0, 12), seq_runs(lacking), n.seq);
      counted = lacking.back();
      std::lock_guard lock(mu_);
      st_.gaps += lacking.size();
    }
  }
  return fills;
}

bool output_exporter::holds_lacking(const std::string& id, const node_state& n) {
  ++reads_;
  for (const auto& [bucket, bytes] : db_.outputs_of(id, n.holes_after_bucket, holes_window + 1)) {
    std::uint64_t q = 0;
    try {
      q = seq_of(bytes);
    } catch (const decode_error&) {
      continue;
    }
    if (q > n.holes_lacking.back()) break;
    if (std::binary_search(n.holes_lacking.begin(), n.holes_lacking.end(), q)) return true;
  }
  return false;
}

bool output_exporter::fill_holes(const std::string& id, node_state& n, std::uint64_t until,
                                 std::vector<fill>& fills) {
  n.holes_lacking.clear();
  const std::uint64_t end = std::min(n.seq, until);  // after `until`: the new process's seqs
  if (end <= 1) return true;
  const std::string subject = c_.output_subject(id);
  // A count first: a subject without holes costs one request.
  const std::uint64_t count = link_->subject_count(c_.stream, subject, false);
  if (count >= n.seq) return true;
  const jetstream_link::stream_state st = link_->stream_info(c_.stream, false);
  if (!st.allow_direct)
    return false;  // made before direct gets: the subject cannot be read in part
  // Seqs go from the subject's first output on (it may start late: a process that went on past
  // seqs it never held, a stream that lost its oldest messages). A hole at seq 1 is not seen.
  std::optional<std::uint64_t> first_seq;
  for (std::uint64_t from = std::max<std::uint64_t>(st.first_seq, 1), tries = 0;
       !first_seq && tries < 8; ++tries) {
    const auto m = link_->next_message(c_.stream, subject, from, false);
    if (!m) return true;
    from = m->stream_seq + 1;
    try {
      first_seq = seq_of(m->data);
    } catch (const decode_error&) {
      // Not an output: the next message.
    }
  }
  const auto last = link_->last_message(c_.stream, subject, false);
  if (!first_seq || !last) return true;
  if (*first_seq > end || count >= n.seq - std::min(*first_seq, n.seq) + 1) return true;
  if (n.holes_hi == 0) {
    n.holes_hi = end;
    n.holes_lo = std::max(*first_seq, end > holes_window ? end - holes_window + 1 : 1);
  }
  const std::uint64_t lo = n.holes_lo, hi = n.holes_hi;
  // The seqs there (and the one before, for where the store's read starts), with their buckets:
  // read one by one (direct gets, which never wait out a cluster that cannot answer), up to a
  // window past it (seqs rise along the subject, but for a window's worth of late ones).
  std::map<std::uint64_t, std::int64_t> seen;
  std::uint64_t from = output_seek(*link_, c_.stream, st, subject, lo > 2 ? lo - 2 : 0, false);
  for (std::size_t gets = 0; from <= last->stream_seq; ++gets) {
    if (gets == 8 * holes_window) {
      // The seek found no place near the window (a subject that jumps there): not read whole.
      spdlog::warn(
          "cluster: node {}'s subject holds fewer messages than seqs, and its seqs {}..{} are "
          "not within {} messages of where a seek starts: not looked at",
          id.substr(0, 12), lo, hi, gets);
      return false;
    }
    const auto m = link_->next_message(c_.stream, subject, from, false);
    if (!m)
      throw cluster_error("reading " + subject + ": no message from stream sequence " +
                          std::to_string(from) + " (the last is " +
                          std::to_string(last->stream_seq) + ")");
    from = m->stream_seq + 1;
    try {
      const Output o = decode_output(m->data, stored_output_limits());
      if (o.seq + 1 >= lo && o.seq <= hi) seen.emplace(o.seq, o.bucket);
      if (o.seq > hi + holes_window) break;
    } catch (const decode_error&) {
      // Not an output: not one of the node's seqs.
    }
  }
  std::vector<std::uint64_t> missing;
  // Below the first seen: a hole that goes on further back than the window (left as it is).
  for (std::uint64_t q = seen.empty() ? hi + 1 : seen.begin()->first + 1; q <= hi; ++q)
    if (!seen.count(q) && !std::binary_search(n.holes_filled.begin(), n.holes_filled.end(), q))
      missing.push_back(q);
  if (missing.empty()) return true;
  // This process's outputs from the one before the first hole on: the node's seqs rise with
  // its buckets. An output larger than the servers take stays out, as export_batch leaves it
  // (counted as a gap by the process that left it out).
  const auto before = std::prev(seen.lower_bound(missing.front()));
  ++reads_;
  const auto stored =
      db_.outputs_of(id, before->second, static_cast<std::size_t>(hi - before->first));
  const std::size_t max = link_->max_payload();
  const std::size_t headers = header_bytes(c_, id, true);
  std::vector<std::uint64_t> held, too_big;
  for (const auto& [bucket, bytes] : stored) {
    std::uint64_t q = 0;
    try {
      q = seq_of(bytes);
    } catch (const decode_error&) {
      continue;  // lacking, as far as the stream goes
    }
    if (q > hi) break;
    if (!std::binary_search(missing.begin(), missing.end(), q)) continue;
    held.push_back(q);
    if (max > 0 && bytes.size() + headers > max) {
      too_big.push_back(q);
    } else {
      fills.push_back({q, bytes});
    }
  }
  if (!too_big.empty())
    spdlog::warn(
        "cluster: node {}'s subject lacks {} below its end (seq {}): larger than the servers "
        "take (max_payload {})",
        id.substr(0, 12), seq_runs(too_big), n.seq, max);
  std::set_difference(missing.begin(), missing.end(), held.begin(), held.end(),
                      std::back_inserter(n.holes_lacking));
  if (!n.holes_lacking.empty())
    n.holes_after_bucket = std::prev(seen.lower_bound(n.holes_lacking.front()))->second;
  return true;
}

std::size_t output_exporter::nodes_now() const {
  std::size_t n = wanted_.size();
  for (const auto& id : left_ids_) n += wanted_.count(id) == 0 ? 1 : 0;
  return n;
}

}  // namespace shoal
