#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <zmq.hpp>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/metrics/stage_latency.hpp"
#include "runtime/sources/sources.hpp"
#include "runtime/sources/stream_gate.hpp"
#include "runtime/transport/curve_keys.hpp"
#include "runtime/transport/snapshot_client.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

class zmq_source final : public thread_source {
  template <class Handle>
  void catch_up_from_snapshot(zmq::context_t& ctx, Handle& handle);

 public:
  zmq_source(zmq::context_t& ctx, source_decl decl, std::shared_ptr<ingest> in, clock& clk)
      : decl_(std::move(decl)), in_(std::move(in)), clock_(clk) {
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
  clock& clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

template <class Handle>
void zmq_source::catch_up_from_snapshot(zmq::context_t& ctx, Handle& handle) {
  snapshot_client client(ctx, decl_.snapshot, std::chrono::seconds(5),
                         curve_client{decl_.curve_secret_key_file, decl_.curve_server_key});
  std::size_t caught = 0;
  for (const auto& st : decl_.streams) {
    if (stop_) return;
    std::vector<std::string> outputs;
    try {
      outputs = client.last_outputs(st.name, static_cast<std::size_t>(decl_.catch_up));
    } catch (const snapshot_error& e) {
      spdlog::warn("source {}: {}{}", decl_.name, e.what(),
                   e.no_answer() ? "; continuing live only" : "");
      if (e.no_answer()) return;
      continue;
    }
    for (const auto& bytes : outputs) {
      std::vector<zmq::message_t> frames;
      frames.emplace_back(st.name.data(), st.name.size());
      frames.emplace_back(bytes.data(), bytes.size());
      handle(frames);
      ++caught;
    }
  }
  spdlog::info("source {}: caught up {} outputs from {}", decl_.name, caught, decl_.snapshot);
}

void zmq_source::run(zmq::context_t& ctx) {
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  const bool output_format = decl_.format == zmq_format::output;
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < decl_.streams.size(); ++i) {
    index.emplace(decl_.streams[i].name, i);
    // ZeroMQ subscriptions match prefixes: frames of longer topics are filtered out below.
    sub.set(zmq::sockopt::subscribe, decl_.streams[i].name);
  }
  // CURVE: the monitor reports handshakes that fail (a wrong server key, a key the feed does
  // not allow), which otherwise look like a feed that says nothing.
  std::unique_ptr<zmq::socket_t> monitor;
  if (!decl_.curve_secret_key_file.empty()) {
    apply_curve_client(sub, {decl_.curve_secret_key_file, decl_.curve_server_key});
    const std::string endpoint = "inproc://shoal-source-monitor-" + decl_.name;
    if (zmq_socket_monitor(sub.handle(), endpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
      monitor = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::pair);
      monitor->set(zmq::sockopt::linger, 0);
      monitor->connect(endpoint);
    }
  }
  // libzmq 4.3 does not connect again after a failed handshake: the source does, a second
  // later, so a feed that lets this key in later (or a key file rewritten) is read again.
  std::optional<std::chrono::steady_clock::time_point> handshake_failed;
  auto handshakes = [&] {
    if (!monitor) return;
    zmq::message_t event, address;
    while (monitor->recv(event, zmq::recv_flags::dontwait)) {
      if (event.more()) (void)monitor->recv(address, zmq::recv_flags::dontwait);
      in_->handshake_failed(decl_.name, address.to_string());
      handshake_failed = std::chrono::steady_clock::now();
    }
    if (handshake_failed &&
        std::chrono::steady_clock::now() - *handshake_failed > std::chrono::seconds(1)) {
      handshake_failed.reset();
      for (const auto& ep : decl_.connect) {
        try {
          sub.disconnect(ep);
        } catch (const zmq::error_t&) {
          // that connection is already gone
        }
        sub.connect(ep);
      }
    }
  };
  for (const auto& ep : decl_.connect) sub.connect(ep);

  stream_gate gate(decl_, *in_, clock_, output_format);
  std::vector<std::uint64_t> sender_seq(decl_.streams.size(), 0);  // format "output"
  std::set<std::string> logged_gaps;                               // log each topic's first gap
  decode_limits limits;

  // One [topic][body] message, live or from a snapshot.
  auto handle = [&](std::vector<zmq::message_t>& frames) {
    const std::int64_t received_ns = stage_latency::now_ns();  // for the latency metrics only
    const std::string topic = frames[0].to_string();
    auto it = index.find(topic);
    if (it == index.end()) {
      in_->unmatched_topic(decl_.name, topic);
      return;
    }
    const std::size_t i = it->second;
    if (frames.size() != 2) {
      gate.reject(i, "", "frame_count",
                  "expected 2 frames [stream][payload], got " + std::to_string(frames.size()));
      return;
    }
    try {
      if (output_format) {
        // Another engine's Output: its bucket is our event time, its value our payload.
        Output out = decode_output(frames[1].to_string_view(), limits);
        if (out.node != topic)
          throw decode_error(
              error_kind::wrong_type, "node",
              "output of \"" + out.node + "\" published under topic \"" + topic + "\"");
        auto& seen = sender_seq[i];
        if (out.seq == 1 && seen > 1) {
          // The sender restarted from scratch: its seqs begin again.
          spdlog::warn("source {}: {} restarted (seq 1 after {})", decl_.name, topic, seen);
          seen = 0;
        }
        if (seen && out.seq <= seen) return;  // already seen (snapshot overlap)
        if (seen && out.seq != seen + 1) {
          if (logged_gaps.insert(topic).second)
            spdlog::warn("source {}: gap on {}: sender seq {} after {} ({} outputs missed)",
                         decl_.name, topic, out.seq, seen, out.seq - seen - 1);
          in_->count_gap(gate.name(i), out.seq - seen - 1);
        }
        seen = out.seq;
        if (out.value->is_nil())
          throw decode_error(error_kind::wrong_type, "value", "the sender published nil");
        gate.given(i, *out.value, out.bucket, received_ns);
      } else {
        gate.payload(i, from_msgpack(frames[1].to_string_view(), limits), received_ns);
      }
    } catch (const decode_error& e) {
      gate.reject(i, frames[1].to_string(), to_string(e.kind()), e.what());
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

  if (output_format && !decl_.snapshot.empty() && decl_.catch_up > 0) {
    // Late start: subscribe, wait until live frames flow (or a second passes), then take
    // the sender's recent outputs from its snapshot endpoint. Snapshot and live overlap;
    // sender seqs drop the overlap, so the feed has no gap and no duplicate.
    std::vector<std::vector<zmq::message_t>> early;
    const auto until = clock_.now() + std::chrono::seconds(1);
    while (!stop_ && early.empty() && clock_.now() < until)
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
    // Idle streams: watermarks follow the source's progress, journaled, so a quiet stream never
    // stalls the joins below it and replay closes the same buckets at the same point.
    gate.idle_watermarks();
    handshakes();
  }
}

}  // namespace

std::unique_ptr<thread_source> start_zmq_source(zmq::context_t& ctx, const source_decl& decl,
                                                std::shared_ptr<ingest> in, clock& clk) {
  return std::make_unique<zmq_source>(ctx, decl, std::move(in), clk);
}

}  // namespace shoal
