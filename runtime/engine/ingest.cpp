#include "runtime/engine/ingest.hpp"

#include <spdlog/spdlog.h>

namespace shoal {

ingest::ingest(std::map<std::string, ingest_target, std::less<>> streams, store_writer* journal,
               flow_control& flow, std::shared_ptr<status_board> board)
    : journal_(journal), flow_(flow), board_(std::move(board)) {
  for (auto& [name, target] : streams) streams_.emplace(name, stream_state{std::move(target)});
}

void ingest::resume_from(const store& s) {
  std::size_t pending = streams_.size() * 2;
  std::map<std::string, std::pair<bool, bool>, std::less<>> found;  // (seq, watermark) found
  s.read_journal_backwards([&](std::uint64_t, std::string_view bytes) {
    journal_record r = decode_journal_record(bytes);
    stream_state* st = find(stream_of(r));
    if (!st) return true;
    auto& [seq_found, wm_found] = found[stream_of(r)];
    if (const auto* e = std::get_if<Event>(&r); e && !seq_found) {
      st->journaled_seq = st->seq = e->seq;
      seq_found = true;
      --pending;
    } else if (const auto* w = std::get_if<Watermark>(&r); w && !wm_found) {
      st->journaled_wm = w->ts;
      wm_found = true;
      --pending;
    }
    return pending > 0;
  });
}

ingest::stream_state* ingest::find(std::string_view stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

void ingest::wait_unpaused(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !paused_; });
}

bool ingest::event(const std::string& stream, std::int64_t ts, value_ptr payload,
                   std::optional<std::uint64_t> index) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  stream_state* st = find(stream);
  if (!st) return false;
  if (index && *index <= st->journaled_seq) return false;  // already in the journal
  const std::uint64_t seq = index ? *index : st->seq + 1;
  st->seq = seq;
  if (journal_) journal_->append_journal(encode_event(Event{stream, seq, ts, payload}));
  max_ts_ = std::max(max_ts_, ts);
  flow_.sent();
  caf::anon_send(st->target.node, event_atom::value, std::uint32_t{0}, seq, ts, std::move(payload));
  return true;
}

bool ingest::watermark(const std::string& stream, std::int64_t ts) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  stream_state* st = find(stream);
  if (!st || ts <= st->journaled_wm) return false;
  if (journal_) journal_->append_journal(encode_watermark(Watermark{stream, ts}));
  flow_.sent();
  caf::anon_send(st->target.node, watermark_atom::value, std::uint32_t{0}, ts);
  return true;
}

void ingest::rejected(const std::string& stream, std::int64_t ts, std::string raw,
                      std::string reason) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  if (journal_)
    journal_->append_journal(
        encode_rejected(Rejected{stream, ts, std::move(raw), std::move(reason)}));
  if (stream_state* st = find(stream))
    board_->update(st->target.report, [](node_report& r) { ++r.rejected; });
}

void ingest::count_gap(const std::string& stream, std::uint64_t missed) {
  std::lock_guard lock(mu_);
  if (stream_state* st = find(stream))
    board_->update(st->target.report, [&](node_report& r) { r.gaps += missed; });
}

void ingest::forward(const journal_record& r) {
  stream_state* st = find(stream_of(r));
  if (!st) return;  // a stream this graph does not read
  if (const auto* e = std::get_if<Event>(&r)) {
    std::lock_guard lock(mu_);
    st->seq = e->seq;
    max_ts_ = std::max(max_ts_, e->ts);
    flow_.sent();
    caf::anon_send(st->target.node, event_atom::value, std::uint32_t{0}, e->seq, e->ts, e->payload);
  } else if (const auto* w = std::get_if<Watermark>(&r)) {
    flow_.sent();
    caf::anon_send(st->target.node, watermark_atom::value, std::uint32_t{0}, w->ts);
  } else {
    board_->update(st->target.report, [](node_report& rep) { ++rep.rejected; });
  }
}

void ingest::pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void ingest::resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

std::int64_t ingest::max_ts() const {
  std::lock_guard lock(mu_);
  return max_ts_;
}

}  // namespace shoal
