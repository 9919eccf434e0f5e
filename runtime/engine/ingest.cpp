#include "runtime/engine/ingest.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "runtime/graph/node_id.hpp"

namespace shoal {

ingest::ingest(std::map<std::string, ingest_target, std::less<>> streams, store_writer* journal,
               flow_control& flow, std::shared_ptr<status_board> board, ingest_options o)
    : journal_(journal),
      flow_(flow),
      board_(std::move(board)),
      opt_(o),
      clock_(o.clock ? *o.clock : system_clock()) {
  for (auto& [name, target] : streams) streams_.emplace(name, stream_state{std::move(target)});
}

void ingest::resume_from(const store& s) {
  if (auto modes = s.get_meta("time_modes")) {
    for (const auto& [stream, mode] : from_msgpack(*modes).as_map())
      if (mode.is_string()) time_modes_[stream] = mode.as_string();
  }
  std::size_t pending = 0;
  for (const auto& [name, st] : streams_) pending += st.target.watermarks ? 2 : 1;
  std::map<std::string, std::pair<bool, bool>, std::less<>> found;  // (seq, watermark) found
  s.read_journal_backwards([&](std::uint64_t, std::string_view bytes) {
    journal_record r = decode_journal_record(bytes);
    stream_state* st = find(stream_of(r));
    if (!st) return true;
    auto& [seq_found, wm_found] = found[stream_of(r)];
    if (const auto* e = std::get_if<Event>(&r); e && !seq_found) {
      st->journaled_seq = st->seq = e->seq;
      st->journaled_event = *e;
      seq_found = true;
      --pending;
    } else if (const auto* w = std::get_if<Watermark>(&r); w && !wm_found) {
      st->journaled_wm = w->ts;
      wm_found = true;
      if (st->target.watermarks) --pending;
    }
    return pending > 0;
  });
}

std::optional<Event> ingest::journaled_event(std::string_view stream) {
  std::lock_guard lock(mu_);
  const stream_state* st = find(stream);
  return st ? st->journaled_event : std::nullopt;
}

ingest::stream_state* ingest::find(std::string_view stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

void ingest::wait_unpaused(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !paused_; });
}

bool ingest::event(const std::string& stream, std::int64_t ts, value_ptr payload,
                   std::optional<std::uint64_t> index, std::int64_t received_ns) {
  // Receipt times only matter where latency is measured; unstamped input is received now.
  if (!opt_.latency) {
    received_ns = 0;
  } else if (received_ns == 0) {
    received_ns = stage_latency::now_ns();
  }
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  stream_state* st = find(stream);
  if (!st) return false;
  if (index && *index <= st->journaled_seq) return false;  // already in the journal
  const std::uint64_t seq = index ? *index : st->seq + 1;
  st->seq = seq;
  set_idle(*st, false);
  if (journal_) journal_->append_journal(encode_event(Event{stream, seq, ts, payload}));
  max_ts_ = std::max(max_ts_, ts);
  deliver([node = st->target.node, seq, ts, payload = std::move(payload), received_ns,
           latency = opt_.latency.get()]() mutable {
    if (latency) latency->record(latency_stage::ingest, received_ns);
    node->event(seq, ts, std::move(payload), received_ns);
  });
  return true;
}

bool ingest::watermark(const std::string& stream, std::int64_t ts) {
  return send_watermark(stream, ts, false);
}

bool ingest::idle_watermark(const std::string& stream, std::int64_t ts) {
  return send_watermark(stream, ts, true);
}

bool ingest::send_watermark(const std::string& stream, std::int64_t ts, bool idle) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  stream_state* st = find(stream);
  if (!st || ts <= st->journaled_wm) return false;
  if (idle) set_idle(*st, true);
  if (journal_) journal_->append_journal(encode_watermark(Watermark{stream, ts, idle}));
  const std::int64_t received_ns = opt_.latency ? stage_latency::now_ns() : 0;
  deliver([node = st->target.node, ts, received_ns] { node->watermark(ts, received_ns); });
  return true;
}

void ingest::set_idle(stream_state& st, bool idle) {
  if (st.idle == idle) return;  // the common case costs no board lock
  st.idle = idle;
  board_->update(st.target.report, [idle](node_report& r) { r.idle = idle; });
}

void ingest::rejected(const std::string& stream, std::int64_t ts, std::string raw,
                      std::string reason) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  stream_state* st = find(stream);
  // Counted here, unless journaled while a catch-up reads it back (its forward counts it).
  const auto count = [&] {
    if (st) board_->update(st->target.report, [](node_report& r) { ++r.rejected; });
  };
  if (!journal_) return count();
  if (st) {
    // Per-stream rate limit: a flood of junk is counted, not journaled record by record.
    const std::int64_t second = clock_.now().time_since_epoch().count() / 1'000'000'000;
    if (second != st->reject_second) {
      st->reject_second = second;
      st->rejects_in_second = 0;
    }
    if (++st->rejects_in_second > opt_.reject_journal_per_second) return count();
  }
  if (!journal_only_) count();
  Rejected r{stream, ts, std::move(raw), std::move(reason), 0, {}};
  if (r.raw.size() > opt_.reject_keep_bytes) {
    r.raw_bytes = r.raw.size();
    r.raw_sha256 = sha256_hex(r.raw);
    r.raw.resize(opt_.reject_keep_bytes);
  }
  journal_->append_journal(encode_rejected(r));
}

void ingest::unmatched_topic(const std::string& source, const std::string& topic) {
  std::lock_guard lock(mu_);
  ++unmatched_;
  if (unmatched_names_.size() < 1024 && unmatched_names_.insert(topic).second)
    spdlog::info(
        "source {}: ignoring topic \"{}\": not one of its streams (counted in "
        "shoal_unmatched_topics_total)",
        source, topic.substr(0, 128));
}

void ingest::handshake_failed(const std::string& source, const std::string& endpoint) {
  std::lock_guard lock(mu_);
  if (handshake_failures_++ == 0)
    spdlog::warn(
        "source {}: the handshake with {} failed (a wrong CURVE server_key, a key the feed does "
        "not allow, or CURVE on one side only); it connects again every second; counted in "
        "shoal_source_handshake_failures_total",
        source, endpoint);
}

std::uint64_t ingest::handshake_failures() const {
  std::lock_guard lock(mu_);
  return handshake_failures_;
}

std::uint64_t ingest::unmatched_topics() const {
  std::lock_guard lock(mu_);
  return unmatched_;
}

void ingest::control(const Control& c) {
  std::unique_lock lock(mu_);
  wait_unpaused(lock);
  if (!journal_) return;
  journal_->append_journal_control(encode_control(c));
  if (c.kind == "time_mode") {
    // Also in meta, so a restart finds it without reading the journal from its start.
    auto it = c.args.find("mode");
    if (it == c.args.end() || !it->second.is_string()) return;
    time_modes_[c.stream] = it->second.as_string();
    value_map m;
    for (const auto& [stream, mode] : time_modes_) m[stream] = Value(mode);
    journal_->put_meta("time_modes", to_msgpack(Value(std::move(m))));
  }
}

std::string ingest::journaled_time_mode(const std::string& stream) const {
  std::lock_guard lock(mu_);
  auto it = time_modes_.find(stream);
  return it == time_modes_.end() ? std::string() : it->second;
}

void ingest::count_gap(const std::string& stream, std::uint64_t missed) {
  std::lock_guard lock(mu_);
  if (stream_state* st = find(stream))
    board_->update(st->target.report, [&](node_report& r) { r.gaps += missed; });
}

void ingest::forward(const journal_record& r) {
  if (const auto* c = std::get_if<Control>(&r)) {
    if (on_control_) on_control_(*c);
    return;
  }
  stream_state* st = find(stream_of(r));
  if (!st) return;  // a stream this graph does not read
  if (const auto* e = std::get_if<Event>(&r)) {
    std::lock_guard lock(mu_);
    // A catch-up's records are behind what live input may have been given meanwhile.
    st->seq = std::max(st->seq, e->seq);
    max_ts_ = std::max(max_ts_, e->ts);
    flow_.sent();
    st->target.node->event(e->seq, e->ts, e->payload);
  } else if (const auto* w = std::get_if<Watermark>(&r)) {
    flow_.sent();
    st->target.node->watermark(w->ts);
  } else if (std::holds_alternative<Rejected>(r)) {
    board_->update(st->target.report, [](node_report& rep) { ++rep.rejected; });
  }
}

void ingest::deliver(std::function<void()> send) {
  if (journal_only_) return;  // read back from the journal by the catch-up
  if (holding_) {
    held_.push_back(std::move(send));
    return;
  }
  flow_.sent();
  send();
}

void ingest::pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

std::uint64_t ingest::hold() {
  std::lock_guard lock(mu_);
  holding_ = true;
  return journal_ ? journal_->last_journal_seq() : 0;
}

void ingest::resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
    holding_ = false;
    // Under the lock: what arrives next goes behind what was held, as in the journal.
    for (auto& send : held_) {
      flow_.sent();
      send();
    }
    held_.clear();
  }
  cv_.notify_all();
}

void ingest::journal_only() {
  std::lock_guard lock(mu_);
  journal_only_ = true;
}

std::uint64_t ingest::end_journal_only() {
  std::lock_guard lock(mu_);
  journal_only_ = false;
  holding_ = true;
  return journal_ ? journal_->last_journal_seq() : 0;
}

std::int64_t ingest::max_ts() const {
  std::lock_guard lock(mu_);
  return max_ts_;
}

}  // namespace shoal
