#include "runtime/cluster/journal_pull.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "messages/journal_record.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

std::uint64_t journal_seq_of(const std::string& msg_id, const std::string& engine_id) {
  if (msg_id.size() <= engine_id.size() + 1 ||
      msg_id.compare(0, engine_id.size(), engine_id) != 0 || msg_id[engine_id.size()] != ':')
    return 0;
  std::uint64_t seq = 0;
  const char* first = msg_id.data() + engine_id.size() + 1;
  const char* last = msg_id.data() + msg_id.size();
  auto [end, ec] = std::from_chars(first, last, seq);
  return ec == std::errc() && end == last ? seq : 0;
}

void journal_order::add(const std::string& subject, std::uint64_t stream_seq,
                        const std::string& msg_id, std::string data, const sink& f) {
  const std::uint64_t seq = journal_seq_of(msg_id, engine_id_);
  if (seq == 0)
    throw cluster_error("message " + std::to_string(stream_seq) + " on " + subject + " has id \"" +
                        msg_id + "\", not " + engine_id_ + ":<journal seq>");
  if (seq < next_) return;  // handed on already
  if (seq > next_) {
    ahead_.emplace(seq, std::move(data));
    return;
  }
  f(next_++, std::move(data));
  for (auto it = ahead_.begin(); it != ahead_.end() && it->first <= next_;) {
    if (it->first == next_) f(next_++, std::move(it->second));
    it = ahead_.erase(it);
  }
}

std::vector<std::uint64_t> journal_order::missing() const {
  std::vector<std::uint64_t> out;
  std::uint64_t s = next_;
  for (const auto& held : ahead_) {
    for (; s < held.first; ++s) out.push_back(s);
    s = held.first + 1;
  }
  return out;
}

std::string lost_journal_record(const std::string& engine_id, std::uint64_t seq) {
  return encode_rejected(
      Rejected{"", 0, "",
               "lost: journal record " + std::to_string(seq) + " of engine " + engine_id +
                   " never reached the cluster (stored in part, and the host that journaled it "
                   "lost before it sent it again); recorded so by the process that took the "
                   "engine over",
               0, ""});
}

std::uint64_t record_lost_journal(jetstream_link& link, const cluster_decl& c,
                                  const std::vector<std::uint64_t>& lost) {
  if (lost.empty()) return 0;
  std::vector<std::string> bytes;  // the messages view them
  bytes.reserve(lost.size());
  std::vector<outgoing_message> msgs;
  msgs.reserve(lost.size());
  for (const std::uint64_t s : lost) {
    bytes.push_back(lost_journal_record(c.engine_id, s));
    msgs.push_back({c.engine_id + ":" + std::to_string(s), "", bytes.back()});
  }
  // A few tries: a leader being elected answers none for a while. Each stores what is missing
  // only (the ids are the records').
  std::uint64_t stored = 0;  // new in the stream, over the tries (a later one: duplicates)
  for (int attempt = 1;; ++attempt) {
    const publish_result r = link.publish(c.journal_subject(), msgs, 10'000);
    stored += r.stored - r.duplicates;
    if (r.error.empty() && r.stored == msgs.size()) break;
    const std::string why = r.error.empty() ? "missing acknowledgements" : r.error;
    if (attempt == 3)
      throw cluster_error("stream " + c.stream + " lacks journal record " +
                          std::to_string(lost.front()) + " of engine " + c.engine_id +
                          ", and recording it as lost failed: " + why);
    spdlog::warn("cluster: recording journal records of engine {} as lost: {}; trying again",
                 c.engine_id, why);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::string seqs;  // at most 20 named
  for (std::size_t i = 0; i < lost.size() && i < 20; ++i)
    seqs += (i ? ", " : "") + std::to_string(lost[i]);
  if (lost.size() > 20) seqs += ", ...";
  if (stored == 0) {
    // Each id is in the stream's memory: the records came meanwhile (the reader gets them), or
    // were removed within duplicate_window (the reader says so).
    spdlog::warn(
        "cluster: stream {} lacked {} journal record(s) of engine {} ({}) below records it "
        "holds; their stand-ins went in as duplicates of messages with the same ids",
        c.stream, lost.size(), c.engine_id, seqs);
    return 0;
  }
  spdlog::error(
      "cluster: stream {} lacked {} journal record(s) of engine {} ({}) below records it holds: "
      "the process before sent them in part and went before it sent them again. {} of them "
      "recorded in the stream as lost (rejected records; the others came meanwhile): the "
      "journal goes on without them",
      c.stream, lost.size(), c.engine_id, seqs, stored);
  return stored;
}

bool is_lost_journal_record(const cluster_decl& c, std::uint64_t seq, std::string_view bytes) {
  // Most records are not: their reason's words first, before making the stand-in to compare.
  static constexpr std::string_view words = "lost: journal record ";
  return seq > 0 && bytes.find(words) != std::string_view::npos &&
         bytes == lost_journal_record(c.engine_id, seq);
}

void check_not_lost_here(const cluster_decl& c, std::uint64_t seq, std::string_view stand_in,
                         const std::optional<std::string>& local, const std::string& dir) {
  if (!local || *local == stand_in) return;
  throw cluster_error("data dir " + dir + " is not engine " + c.engine_id +
                      "'s as the stream has it: its journal record " + std::to_string(seq) +
                      " is one stream " + c.stream +
                      " records as lost (the process that took the engine over did not have it). "
                      "Start on an empty dir, which takes the engine over from the cluster");
}

std::optional<journal_end> last_journal_record(jetstream_link& link, const cluster_decl& c) {
  const std::string subject = c.journal_subject();
  auto last = link.last_message(c.stream, subject);
  if (!last) return std::nullopt;
  journal_end end{journal_seq_of(last->msg_id, c.engine_id), std::move(last->data), {}};
  if (!is_lost_journal_record(c, end.seq, end.bytes)) return end;
  // Stand-ins are written after the records above them: the end is the highest seq of all.
  // (A seq stored twice: its first copy, as every reader takes it.)
  std::vector<bool> seen;  // by seq: a bit each, for a journal of any length
  std::set<std::uint64_t> lost;
  link.read(c.stream, subject, 1, last->stream_seq, [&](const stored_message& m) {
    const std::uint64_t seq = journal_seq_of(m.msg_id, c.engine_id);
    if (seq >= seen.size()) seen.resize(std::max<std::size_t>(seq + 1, 2 * seen.size()));
    if (seen[seq]) return;
    seen[seq] = true;
    if (is_lost_journal_record(c, seq, m.data)) lost.insert(seq);
    if (seq > end.seq) {
      end.seq = seq;
      end.bytes = m.data;
    }
  });
  end.lost.assign(lost.begin(), lost.end());
  return end;
}

pulled_journal read_cluster_journal(
    jetstream_link& link, const cluster_decl& c, std::uint64_t after,
    const std::function<void(std::uint64_t, std::string&&)>& f, bool record_lost,
    const std::function<std::optional<std::string>(std::uint64_t)>& local_record,
    const std::string& dir) {
  const std::string subject = c.journal_subject();
  const auto last = link.last_message(c.stream, subject);
  if (!last)
    throw cluster_error("stream " + c.stream + " holds no journal of engine " + c.engine_id +
                        " (subject " + subject + ")");
  pulled_journal r;
  journal_order order(c.engine_id, after);
  auto take = [&](const stored_message& m) {
    ++r.messages;
    r.stream_seq = m.stream_seq;
    if (local_record) {
      // A record the caller holds already, that the stream has as lost: not the same history.
      const std::uint64_t seq = journal_seq_of(m.msg_id, c.engine_id);
      if (seq <= after && is_lost_journal_record(c, seq, m.data))
        check_not_lost_here(c, seq, m.data, local_record(seq), dir);
    }
    order.add(subject, m.stream_seq, m.msg_id, m.data, [&](std::uint64_t seq, std::string&& b) {
      f(seq, std::move(b));
      ++r.records;
    });
  };
  link.read(c.stream, subject, 1, last->stream_seq, take);
  if (order.first_waiting() && record_lost) {
    r.lost = record_lost_journal(link, c, order.missing());
    // The stand-ins, after the end read before (or the records themselves, come meanwhile).
    if (const auto end = link.last_message(c.stream, subject))
      link.read(c.stream, subject, last->stream_seq + 1, end->stream_seq, take);
  }
  if (order.first_waiting() && record_lost)
    throw cluster_error(
        "stream " + c.stream + " lacks journal record " + std::to_string(order.next()) +
        " of engine " + c.engine_id +
        ", and took the stand-in for it as a duplicate: it "
        "remembers the record's message id from a message no longer in it (removed within "
        "duplicate_window). Start again once duplicate_window has passed");
  if (order.first_waiting())
    throw cluster_error("stream " + c.stream + " lacks journal record " +
                        std::to_string(order.next()) + " of engine " + c.engine_id +
                        " (it holds record " + std::to_string(order.first_waiting()) +
                        "); the next process to take the engine's lease records it as lost");
  return r;
}

void append_to_journal(store_writer& w, std::string&& bytes) {
  if (std::holds_alternative<Control>(decode_journal_record(bytes))) {
    w.append_journal_control(std::move(bytes));
  } else {
    w.append_journal(std::move(bytes));
  }
}

pulled_journal pull_journal(const cluster_decl& c, const std::string& dir) {
  jetstream_link link(c, "shoal replay " + c.engine_id);
  store db(dir, true);
  store_writer writer(db);
  pulled_journal r = read_cluster_journal(link, c, 0, [&](std::uint64_t, std::string&& bytes) {
    append_to_journal(writer, std::move(bytes));
  });
  if (auto cfg = link.last_message(c.stream, c.config_subject())) {
    writer.put_meta("config", cfg->data);
    r.config = true;
  }
  writer.flush();
  if (!db.get_meta(store::controls_meta)) writer.put_meta(store::controls_meta, "0");
  writer.flush();
  writer.stop();
  return r;
}

}  // namespace shoal
