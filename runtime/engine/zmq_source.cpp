#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <zmq.hpp>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"
#include "messages/records.hpp"
#include "runtime/engine/sources.hpp"
#include "runtime/window_cache.hpp"

namespace shoal {
namespace {

// Event times beyond ±2^62 ns (year 2116) are rejected: bucket arithmetic must not overflow.
constexpr std::int64_t max_event_time = std::int64_t{1} << 62;

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Payload validation by schema; "books" is a keyed order-book bucket as another engine
// publishes it: a map of asset → book, every book valid.
void validate_stream_payload(const std::string& schema, const Value& payload) {
  if (schema != "books") return validate_payload(schema, payload);
  if (!payload.is_map())
    throw decode_error(error_kind::wrong_type, "payload", "expected a map of asset → book");
  for (const auto& [asset, book] : payload.as_map()) {
    try {
      validate_ob(book);
    } catch (const decode_error& e) {
      // Re-root the path under the asset: "A003.bid_qty[2]".
      std::string what = e.what();
      if (!e.field().empty()) what = what.substr(e.field().size() + 2);
      throw decode_error(e.kind(), asset + (e.field().empty() ? "" : "." + e.field()), what);
    }
  }
}

// The event time of a payload: its `ts` field (ns since the epoch, int or integral float)
// when present; otherwise the ingest time, never earlier than the stream's last event. A
// stamped time is journaled with the event, so replay does not depend on the clock.
std::int64_t event_time(const Value& payload, const std::string& mode, std::int64_t last_ts,
                        bool& stamped) {
  const Value* t = mode == "ingest" ? nullptr : payload.find("ts");
  if (!t && mode == "payload")
    throw decode_error(error_kind::missing_field, "ts",
                       "missing (this stream takes event time from the payload)");
  if (!t) {
    stamped = true;
    return std::max(wall_clock_ns(), last_ts);
  }
  stamped = false;
  double d = 0;
  if (t->is_int()) {
    if (t->as_int() > -max_event_time && t->as_int() < max_event_time) return t->as_int();
  } else if (t->is_double() && std::isfinite(d = t->as_double()) && std::abs(d) < 4.6e18) {
    if (d != std::trunc(d))
      throw decode_error(error_kind::wrong_type, "ts",
                         "must be a whole number of ns since the epoch, not a fraction");
    return static_cast<std::int64_t>(std::llround(d));
  } else {
    throw decode_error(error_kind::wrong_type, "ts", "must be an integer (ns since the epoch)");
  }
  throw decode_error(error_kind::out_of_range, "ts", "must be within ±2^62 ns of the epoch");
}

class zmq_source final : public thread_source {
  template <class Handle>
  void catch_up_from_snapshot(zmq::context_t& ctx, Handle& handle);

 public:
  zmq_source(zmq::context_t& ctx, source_decl decl, std::shared_ptr<ingest> in)
      : decl_(std::move(decl)), in_(std::move(in)) {
    thread_ = std::thread([this, &ctx] { run(ctx); });
  }
  ~zmq_source() override { stop(); }
  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(zmq::context_t& ctx);

  source_decl decl_;
  std::shared_ptr<ingest> in_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

template <class Handle>
void zmq_source::catch_up_from_snapshot(zmq::context_t& ctx, Handle& handle) {
  zmq::socket_t req(ctx, zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.set(zmq::sockopt::rcvtimeo, 5000);
  req.connect(decl_.snapshot);
  std::size_t caught = 0;
  for (const auto& st : decl_.streams) {
    if (stop_) return;
    req.send(zmq::buffer(to_msgpack(
                 Value(value_map{{"topic", Value(st.name)}, {"n", Value(decl_.catch_up)}}))),
             zmq::send_flags::none);
    zmq::message_t reply;
    if (!req.recv(reply)) {
      spdlog::warn("source {}: no answer from snapshot endpoint {}; continuing live only",
                   decl_.name, decl_.snapshot);
      return;
    }
    decode_limits big;
    big.max_bytes = std::size_t{1} << 30;
    Value r = from_msgpack(reply.to_string_view(), big);
    const Value* ok = r.find("ok");
    if (!ok || !ok->is_bool() || !ok->as_bool()) {
      const Value* err = r.find("error");
      spdlog::warn("source {}: snapshot of {}: {}", decl_.name, st.name,
                   err && err->is_string() ? err->as_string() : "refused");
      continue;
    }
    const Value* outs = r.find("outputs");
    if (!outs || !outs->is_list()) throw std::runtime_error("snapshot reply without outputs");
    for (const auto& o : outs->as_list()) {
      std::vector<zmq::message_t> frames;
      frames.emplace_back(st.name.data(), st.name.size());
      const std::string bytes = to_msgpack(o);
      frames.emplace_back(bytes.data(), bytes.size());
      handle(frames);
      ++caught;
    }
  }
  spdlog::info("source {}: caught up {} outputs from {}", decl_.name, caught, decl_.snapshot);
}

void zmq_source::run(zmq::context_t& ctx) {
  using clock = std::chrono::steady_clock;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < decl_.streams.size(); ++i) {
    index.emplace(decl_.streams[i].name, i);
    sub.set(zmq::sockopt::subscribe, decl_.streams[i].name);
  }
  for (const auto& ep : decl_.connect) sub.connect(ep);

  struct stream_progress {
    std::string name;  // <source>.<stream>
    std::int64_t last_ts = INT64_MIN;
    std::int64_t last_wm = INT64_MIN;
    std::uint64_t sender_seq = 0;  // format "output": the sender's last seq on this topic
    bool stamped = false;          // its events carry no ts: event time is stamped at ingest
    bool open = false;             // an event arrived since the last watermark
    clock::time_point last_seen = clock::now();
  };
  std::vector<stream_progress> progress(decl_.streams.size());
  for (std::size_t i = 0; i < progress.size(); ++i) {
    progress[i].name = decl_.name + "." + decl_.streams[i].name;
    // Until a stream's first event, only an ingest-time stream knows its time base.
    progress[i].stamped = decl_.streams[i].time == "ingest";
  }
  std::set<std::string> logged_kinds;      // log each kind of bad input once
  std::int64_t source_max_ts = INT64_MIN;  // latest event time on any of this source's streams
  decode_limits limits;
  const auto idle = std::chrono::nanoseconds(decl_.idle_timeout_ns);

  auto reject = [&](const std::string& stream, std::int64_t ts, std::string raw,
                    const std::string& kind, const std::string& what) {
    if (logged_kinds.insert(kind).second)
      spdlog::warn(
          "source {}: rejected input ({}): {} (further {} rejections are counted, not logged)",
          decl_.name, kind, what, kind);
    in_->rejected(stream, ts, std::move(raw), kind + ": " + what);
  };

  // One [topic][body] message, live or from a snapshot.
  auto handle = [&](std::vector<zmq::message_t>& frames) {
    const std::string topic = frames[0].to_string();
    auto it = index.find(topic);
    if (frames.size() != 2) {
      reject(decl_.name + "." + topic, 0, "", "frame_count",
             "expected 2 frames [stream][payload], got " + std::to_string(frames.size()));
      return;
    }
    if (it == index.end()) {
      reject(decl_.name + "." + topic, 0, frames[1].to_string(), "unknown_stream",
             "unknown stream \"" + topic + "\"");
      return;
    }
    auto& p = progress[it->second];
    try {
      Value payload;
      std::int64_t ts = 0;
      if (decl_.format == "output") {
        // Another engine's Output: its bucket is our event time, its value our payload.
        Output out = decode_output(frames[1].to_string_view(), limits);
        if (out.node != topic)
          throw decode_error(
              error_kind::wrong_type, "node",
              "output of \"" + out.node + "\" published under topic \"" + topic + "\"");
        if (out.seq == 1 && p.sender_seq > 1) {
          // The sender restarted from scratch: its seqs begin again.
          spdlog::warn("source {}: {} restarted (seq 1 after {})", decl_.name, topic, p.sender_seq);
          p.sender_seq = 0;
        }
        if (p.sender_seq && out.seq <= p.sender_seq) return;  // already seen (snapshot overlap)
        if (p.sender_seq && out.seq != p.sender_seq + 1) {
          if (logged_kinds.insert("gap:" + topic).second)
            spdlog::warn("source {}: gap on {}: sender seq {} after {} ({} outputs missed)",
                         decl_.name, topic, out.seq, p.sender_seq, out.seq - p.sender_seq - 1);
          in_->count_gap(p.name, out.seq - p.sender_seq - 1);
        }
        p.sender_seq = out.seq;
        if (out.value->is_nil())
          throw decode_error(error_kind::wrong_type, "value", "the sender published nil");
        payload = *out.value;
        ts = out.bucket;
        if (ts <= -max_event_time || ts >= max_event_time)
          throw decode_error(error_kind::out_of_range, "bucket", "beyond ±2^62 ns");
      } else {
        payload = from_msgpack(frames[1].to_string_view(), limits);
        ts = event_time(payload, decl_.streams[it->second].time, p.last_ts, p.stamped);
      }
      validate_stream_payload(decl_.streams[it->second].schema, payload);
      p.last_ts = std::max(p.last_ts, ts);
      p.open = true;
      p.last_seen = clock::now();
      in_->event(p.name, ts, make_value(std::move(payload)));
      source_max_ts = std::max(source_max_ts, ts);
    } catch (const decode_error& e) {
      reject(p.name, p.last_ts == INT64_MIN ? 0 : p.last_ts, frames[1].to_string(),
             to_string(e.kind()), e.what());
    }
  };
  auto receive = [&](int timeout_ms) -> std::optional<std::vector<zmq::message_t>> {
    zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
    if (timeout_ms > 0) zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
    std::vector<zmq::message_t> frames;
    zmq::message_t m;
    if (!sub.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    frames.push_back(std::move(m));
    while (frames.back().more()) {
      zmq::message_t part;
      (void)sub.recv(part);
      frames.push_back(std::move(part));
    }
    return frames;
  };

  if (decl_.format == "output" && !decl_.snapshot.empty() && decl_.catch_up > 0) {
    // Late start: subscribe, wait until live frames flow (or a second passes), then take
    // the sender's recent outputs from its snapshot endpoint. Snapshot and live overlap;
    // sender seqs drop the overlap, so the feed has no gap and no duplicate.
    std::vector<std::vector<zmq::message_t>> early;
    const auto until = clock::now() + std::chrono::seconds(1);
    while (!stop_ && early.empty() && clock::now() < until)
      if (auto f = receive(50)) early.push_back(std::move(*f));
    try {
      catch_up_from_snapshot(ctx, handle);
    } catch (const std::exception& e) {  // a bad reply must not take the engine down
      spdlog::warn("source {}: snapshot catch-up from {} failed ({}); continuing live only",
                   decl_.name, decl_.snapshot, e.what());
    }
    for (auto& f : early) handle(f);
  }

  while (!stop_) {
    zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(50));
    while (!stop_) {
      auto frames = receive(0);
      if (!frames) break;
      handle(*frames);
    }
    const auto now = clock::now();
    for (auto& p : progress) {
      if (now - p.last_seen < idle) continue;
      // Idle: close what can be closed so a quiet stream never stalls the graph. Watermarks
      // are journaled, so replay closes the same buckets at the same point.
      std::int64_t wm = INT64_MIN;
      if (p.stamped) {
        // Event time is ingest time here: nothing can arrive at or before now any more.
        wm = std::max(wall_clock_ns(), p.last_ts) - 1;
        p.last_seen = now;
      } else if (decl_.format == "output" && source_max_ts != INT64_MIN) {
        // A topic of another engine went quiet while its others go on: close it up to where
        // they are, so one dead surface does not stall everything that joins it.
        wm = bucket_of(source_max_ts, decl_.interval_ns) - 1;
        p.last_seen = now;
      } else if (p.open) {
        wm = bucket_of(p.last_ts, decl_.interval_ns) + decl_.interval_ns - 1;
      }
      if (wm > p.last_wm) {
        in_->watermark(p.name, wm);
        p.last_wm = wm;
      }
      p.open = false;
    }
  }
}

}  // namespace

std::unique_ptr<thread_source> start_zmq_source(zmq::context_t& ctx, const source_decl& decl,
                                                std::shared_ptr<ingest> in) {
  return std::make_unique<zmq_source>(ctx, decl, std::move(in));
}

}  // namespace shoal
