// The emission of the cluster_node source kind: another engine's nodes' outputs read from the
// cluster's stream ([cluster] stream_outputs there), one output_follower per node, each in seq
// order and none twice. Each output is journaled with the node's seq as its stream seq, so a
// restart (or a takeover) goes on after the last one the journal holds: unlike a ZeroMQ
// subscription to that engine, nothing it published while this engine was down is lost.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "messages/decode_error.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/output_follower.hpp"
#include "runtime/sources/sources.hpp"
#include "runtime/sources/stream_gate.hpp"

namespace shoal {
namespace {

class cluster_node_source final : public thread_source {
 public:
  cluster_node_source(source_decl decl, cluster_decl cluster, std::shared_ptr<ingest> in,
                      clock& clk)
      : decl_(std::move(decl)), cluster_(std::move(cluster)), in_(std::move(in)), clock_(clk) {
    // The stream and the other engine's subjects, through this engine's servers and credentials.
    cluster_.engine_id = decl_.engine;
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        spdlog::error("source {}: {}", decl_.name, e.what());
      }
    });
  }
  ~cluster_node_source() override { stop(); }
  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run();
  // Waits up to d, or until stopped; false when stopped.
  bool pause(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return !stop_;
  }

  source_decl decl_;
  cluster_decl cluster_;
  std::shared_ptr<ingest> in_;
  clock& clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void cluster_node_source::run() {
  stream_gate gate(decl_, *in_, clock_, true);
  const std::size_t n = decl_.streams.size();
  std::unique_ptr<jetstream_link> link;
  std::vector<std::unique_ptr<output_follower>> followers(n);
  // A node whose subject lacks a seq no process filled: every later one would wait for it. It
  // is read again from the last seq journaled a minute later (a fill may have come); the other
  // nodes go on meanwhile.
  std::vector<std::optional<std::chrono::steady_clock::time_point>> stalled(n);
  std::optional<std::string> said;  // the last cluster error logged (each new one is)
  auto forget = [&] {
    for (auto& f : followers) f.reset();
  };
  while (!stop_) {
    try {
      if (!link) link = std::make_unique<jetstream_link>(cluster_, "shoal source " + decl_.name);
      bool any = false;
      for (std::size_t i = 0; i < n && !stop_; ++i) {
        if (stalled[i] && std::chrono::steady_clock::now() < *stalled[i]) continue;
        stalled[i].reset();
        auto& f = followers[i];
        // After the node's last seq the journal holds (or this run journaled since).
        if (!f) {
          const std::uint64_t after = in_->last_seq(gate.name(i));
          f = std::make_unique<output_follower>(*link, cluster_, decl_.streams[i].node, after);
          spdlog::info("source {}: stream {} follows node {} of engine {} from seq {}", decl_.name,
                       gate.name(i), decl_.streams[i].node, decl_.engine, after + 1);
        }
        // What is there, up to a batch per node and turn; a short wait when nothing came yet.
        for (int k = 0; k < 256 && !stop_; ++k) {
          std::optional<Output> o;
          try {
            o = f->next(any || k > 0 ? 0 : 50 / static_cast<int>(n));
          } catch (const output_gap& e) {
            spdlog::error("source {}: stream {}: {}; read again in 60 s", decl_.name, gate.name(i),
                          e.what());
            f.reset();
            stalled[i] = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            break;
          }
          if (!o) break;
          any = true;
          try {
            if (!o->value || o->value->is_nil())
              throw decode_error(error_kind::wrong_type, "value",
                                 "node " + decl_.streams[i].node + " published nil at seq " +
                                     std::to_string(o->seq));
            in_->flow().wait_below(4096);
            gate.given(i, *o->value, o->bucket, 0, o->seq);
          } catch (const decode_error& e) {
            gate.reject(i, encode_output(o->node, o->id, o->bucket, o->seq, o->value),
                        to_string(e.kind()), e.what());
          }
        }
      }
      if (said) {
        spdlog::info("source {}: reading engine {}'s outputs from stream {} again", decl_.name,
                     decl_.engine, cluster_.stream);
        said.reset();
      }
      gate.idle_watermarks();
      if (!any &&
          std::all_of(stalled.begin(), stalled.end(), [](const auto& t) { return t.has_value(); }))
        if (!pause(std::chrono::milliseconds(50))) return;
    } catch (const cluster_error& e) {
      if (said != e.what())
        spdlog::warn("source {}: reading engine {}'s outputs from stream {}: {}; trying again",
                     decl_.name, decl_.engine, cluster_.stream, e.what());
      said = e.what();
      forget();
      link.reset();
      if (!pause(std::chrono::seconds(1))) return;
    }
  }
}

}  // namespace

std::unique_ptr<thread_source> start_cluster_node_source(const source_decl& decl,
                                                         const cluster_decl& cluster,
                                                         std::shared_ptr<ingest> in, clock& clk) {
  return std::make_unique<cluster_node_source>(decl, cluster, std::move(in), clk);
}

}  // namespace shoal
