// The emission of the cluster_node source kind: another engine's nodes' outputs read from the
// cluster's stream ([cluster] stream_outputs there), one output_follower per node, each in seq
// order and none twice. Each output is journaled with the node's seq as its stream seq, so a
// restart (or a takeover) goes on after the last one the journal holds: unlike a ZeroMQ
// subscription to that engine, nothing it published while this engine was down is lost.
//
// No idle watermark: the node's own outputs say which buckets are closed, and one made late
// (its engine slow, failing over) must not find its bucket closed here. A quiet node holds back
// the joins below it, as it would inside one graph.
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/utc_time.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/output_follower.hpp"
#include "runtime/cluster/output_seek.hpp"
#include "runtime/sources/sources.hpp"
#include "runtime/sources/stream_gate.hpp"

namespace shoal {
namespace {

using steady = std::chrono::steady_clock;

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
    {
      // A request waiting out a cluster that does not answer fails at once.
      std::lock_guard lock(link_mu_);
      if (link_) link_->close();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  // A node's read. At the start, the journal's last event of the stream is checked against the
  // node's output of that seq in the stream (`check`): when the other engine's history started
  // anew (its journal and outputs purged from the stream, the node fed other input), the stream
  // would else go on after another history's seqs. (A `node` changed on an existing data dir is
  // refused before: another graph.)
  struct node_state {
    std::unique_ptr<output_follower> follower;
    std::uint64_t after = 0;  // handed to the gate through this seq (rejected ones too)
    std::optional<Event> check;                 // the event the follower's first output must be
    std::optional<steady::time_point> stalled;  // read again from then on
    // `from`: the stream's journal held nothing of it at the start. While nothing is handed on,
    // the read starts after a seq of an earlier bucket (output_seq_before_bucket); outputs for
    // earlier buckets are passed over until the first for `from` or later: the stream's first
    // event.
    bool seek_from = false;
  };

  void run();
  // Stream i's journal holds another history of its node than the cluster's stream: said, and
  // not read again.
  void refuse(std::size_t i, node_state& s, const std::string& gate_name, const std::string& why);
  // Waits up to d, or until stopped; false when stopped.
  bool pause(std::chrono::milliseconds d) {
    const auto until = steady::now() + d;
    while (!stop_ && steady::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return !stop_;
  }

  source_decl decl_;
  cluster_decl cluster_;
  std::shared_ptr<ingest> in_;
  clock& clock_;
  std::atomic<bool> stop_{false};
  std::mutex link_mu_;
  std::unique_ptr<jetstream_link> link_;
  std::thread thread_;
};

void cluster_node_source::refuse(std::size_t i, node_state& s, const std::string& gate_name,
                                 const std::string& why) {
  spdlog::error(
      "source {}: stream {}'s journal ends with seq {} of node {} of engine {}, and {} (that "
      "engine's history started anew?): not read; to follow the new history, run this engine "
      "under a new [cluster] engine_id on an empty data dir",
      decl_.name, gate_name, s.check->seq, decl_.streams[i].node, decl_.engine, why);
  s.follower.reset();
  s.stalled = steady::time_point::max();
}

void cluster_node_source::run() {
  stream_gate gate(decl_, *in_, clock_, true);
  const std::size_t n = decl_.streams.size();
  std::vector<node_state> nodes(n);
  for (std::size_t i = 0; i < n; ++i) {
    // After the journal's last event of the stream, the first output checked against it.
    nodes[i].check = in_->journaled_event(gate.name(i));
    if (nodes[i].check) nodes[i].after = nodes[i].check->seq;
    nodes[i].seek_from = decl_.from_bucket && !nodes[i].check;
  }
  std::optional<std::string> said;  // the last cluster error logged (each new one is)
  while (!stop_) {
    try {
      if (!link_) {
        auto l = std::make_unique<jetstream_link>(cluster_, "shoal source " + decl_.name);
        std::lock_guard lock(link_mu_);
        if (stop_) return;
        link_ = std::move(l);
      }
      bool any = false, waited = false;
      for (std::size_t i = 0; i < n && !stop_; ++i) {
        node_state& s = nodes[i];
        const stream_decl& st = decl_.streams[i];
        if (s.stalled && steady::now() < *s.stalled) continue;
        s.stalled.reset();
        if (!s.follower) {
          if (s.check) {
            // A subject ending below the journal's last seq: another history, shorter yet (the
            // follower refuses it once it reaches that seq), or a message stored late (a copy,
            // a retry after the duplicate window). Said, not refused. A filled hole names the
            // subject's end in its Shoal-End header.
            std::optional<std::uint64_t> end_seq;
            try {
              if (const auto end =
                      output_subject_end(*link_, cluster_.stream, cluster_.output_subject(st.node)))
                end_seq = end->seq;
            } catch (const decode_error&) {  // not an output: the follower skips it
            }
            if (end_seq && *end_seq < s.check->seq)
              spdlog::warn(
                  "source {}: stream {}: the cluster's stream holds node {} of engine {} only "
                  "through seq {}, below seq {}, where this engine's journal ends (that engine's "
                  "history started anew?): waiting for seq {}",
                  decl_.name, gate.name(i), st.node, decl_.engine, *end_seq, s.check->seq,
                  s.check->seq);
          }
          if (s.seek_from && s.after == 0)
            s.after = output_seq_before_bucket(
                *link_, cluster_.stream, link_->stream_info(cluster_.stream),
                cluster_.output_subject(st.node), st.node, *decl_.from_bucket);
          // Checked: from the journal's last seq, whose output is compared, not handed on.
          s.follower = std::make_unique<output_follower>(*link_, cluster_, st.node,
                                                         s.after - (s.check ? 1 : 0));
          if (s.seek_from)
            spdlog::info(
                "source {}: stream {} reads node {} of engine {} from seq {}, starting at its "
                "first output for {} or later",
                decl_.name, gate.name(i), st.node, decl_.engine, s.after + 1,
                utc_time(*decl_.from_bucket));
          else
            spdlog::info("source {}: stream {} reads node {} of engine {} from seq {}", decl_.name,
                         gate.name(i), st.node, decl_.engine, s.after + 1);
        }
        // What is there, up to a batch per node and turn; a short wait when nothing came yet.
        for (int k = 0; k < 256 && !stop_; ++k) {
          std::optional<Output> o;
          try {
            waited = true;
            o = s.follower->next(any || k > 0 ? 0 : 50 / static_cast<int>(n));
          } catch (const output_gap& e) {
            // A seq no process filled: every later one waits for it. Read again from the last
            // one handed on a minute later (a fill may have come); the other nodes go on.
            spdlog::error("source {}: stream {}: {}; read again in 60 s", decl_.name, gate.name(i),
                          e.what());
            s.follower.reset();
            s.stalled = steady::now() + std::chrono::seconds(60);
            break;
          }
          if (!o) break;
          any = true;
          if (s.check) {
            // The same bytes as journaled (NaN included), at the same bucket.
            const bool same = o->seq == s.check->seq && o->bucket == s.check->ts && o->value &&
                              s.check->payload &&
                              to_msgpack(*o->value) == to_msgpack(*s.check->payload);
            if (!same) {
              refuse(i, s, gate.name(i),
                     "the cluster's stream holds another bucket or value there");
              break;
            }
            s.check.reset();
            continue;
          }
          s.after = o->seq;
          if (s.seek_from) {
            if (o->bucket < *decl_.from_bucket) continue;  // before `from`: passed over
            s.seek_from = false;
          }
          try {
            if (!o->value || o->value->is_nil())
              throw decode_error(
                  error_kind::wrong_type, "value",
                  "node " + st.node + " published nil at seq " + std::to_string(o->seq));
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
      // Every node stalled: nothing waited on the stream this turn.
      if (!waited && !pause(std::chrono::milliseconds(50))) return;
    } catch (const cluster_error& e) {
      if (stop_) return;
      if (said != e.what())
        spdlog::warn("source {}: reading engine {}'s outputs from stream {}: {}; trying again",
                     decl_.name, decl_.engine, cluster_.stream, e.what());
      said = e.what();
      // Read again after what each node handed on (rejected seqs are not journaled again).
      for (auto& s : nodes) s.follower.reset();
      {
        std::lock_guard lock(link_mu_);
        link_.reset();
      }
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
