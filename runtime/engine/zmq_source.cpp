#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <set>
#include <zmq.hpp>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"
#include "runtime/engine/sources.hpp"
#include "runtime/window_cache.hpp"

namespace shoal {

zmq_source::zmq_source(zmq::context_t& ctx, source_decl decl, std::vector<stream_target> streams,
                       std::shared_ptr<status_board> board)
    : decl_(std::move(decl)), streams_(std::move(streams)), board_(std::move(board)) {
  thread_ = std::thread([this, &ctx] { run(ctx); });
}

zmq_source::~zmq_source() { stop(); }

void zmq_source::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
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
    std::uint64_t seq = 0;
    std::int64_t last_ts = 0;
    bool open = false;  // an event arrived since the last watermark
    clock::time_point last_seen{};
  };
  std::vector<stream_progress> progress(decl_.streams.size());
  std::set<std::string> logged_kinds;  // log each kind of bad input once
  decode_limits limits;
  const auto idle = std::chrono::nanoseconds(decl_.idle_timeout_ns);

  auto reject = [&](std::size_t stream, const std::string& kind, const std::string& what) {
    if (logged_kinds.insert(kind).second)
      spdlog::warn(
          "source {}: rejected input ({}): {} (further {} rejections are counted, not logged)",
          decl_.name, kind, what, kind);
    if (stream < streams_.size())
      board_->update(streams_[stream].report, [](node_report& r) { ++r.rejected; });
  };

  while (!stop_) {
    zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
    if (items[0].revents & ZMQ_POLLIN) {
      std::vector<zmq::message_t> frames;
      zmq::message_t m;
      do {
        if (!sub.recv(m, zmq::recv_flags::dontwait)) break;
        frames.push_back(std::move(m));
      } while (sub.get(zmq::sockopt::rcvmore));
      if (frames.size() != 2) {
        reject(SIZE_MAX, "frame_count",
               "expected 2 frames [stream][payload], got " + std::to_string(frames.size()));
        continue;
      }
      auto it = index.find(frames[0].to_string_view());
      if (it == index.end()) {
        reject(SIZE_MAX, "unknown_stream", "unknown stream \"" + frames[0].to_string() + "\"");
        continue;
      }
      const std::size_t s = it->second;
      try {
        Value payload = from_msgpack(frames[1].to_string_view(), limits);
        validate_payload(decl_.streams[s].schema, payload);
        // Event time: the payload's ts field when present (ns), else the stream's last ts.
        std::int64_t ts = progress[s].last_ts;
        if (const Value* t = payload.find("ts"); t && t->is_int()) ts = t->as_int();
        auto& p = progress[s];
        p.last_ts = ts;
        p.open = true;
        p.last_seen = clock::now();
        caf::anon_send(streams_[s].node, event_atom::value, std::uint32_t{0}, ++p.seq, ts,
                       make_value(std::move(payload)));
      } catch (const decode_error& e) {
        reject(s, to_string(e.kind()), e.what());
      }
    }
    const auto now = clock::now();
    for (std::size_t s = 0; s < progress.size(); ++s) {
      auto& p = progress[s];
      if (p.open && now - p.last_seen >= idle) {
        // Idle: close the open bucket so the graph does not stall on a quiet stream.
        const std::int64_t wm = bucket_of(p.last_ts, decl_.interval_ns) + decl_.interval_ns - 1;
        caf::anon_send(streams_[s].node, watermark_atom::value, std::uint32_t{0}, wm);
        p.open = false;
      }
    }
  }
}

}  // namespace shoal
