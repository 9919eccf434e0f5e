#pragma once
// node_runner: everything one distinct node does, as plain C++ (no CAF): it feeds its window
// from upstream outputs (or raw events, for a source stream), fires the kernel on every ready
// bucket, encodes the output once per name it publishes under (the first name's bytes go to the
// store and the digest), hands outputs and watermarks to its outlet for its subscribers, and
// keeps its state: counters, FAILED with a reason, paused inputs, checkpoints, restarts and the
// warm start of a node submitted at runtime. The node actor (node_host) is a thin shell that
// feeds it messages; tests drive a runner directly, bucket by bucket.
//
// A FAILED node still takes its inputs into its window and lets ready buckets pass without
// computing them, so its memory stays bounded and a restart continues from the current bucket.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/kernel.hpp"
#include "messages/records.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/metrics/stage_latency.hpp"
#include "runtime/store/output_digest.hpp"
#include "runtime/store/store_writer.hpp"
#include "runtime/transport/publisher.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {

struct kernel_fault;

// Where a runner's outputs and closures go besides the store and the publisher: its subscribers.
// received_ns: when the source received the input that led here (stage_latency), 0 for none.
class node_outlet {
 public:
  virtual ~node_outlet() = default;
  virtual void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                              std::int64_t received_ns) = 0;
  virtual void forward_watermark(std::int64_t ts, std::int64_t received_ns) = 0;
  // Messages waiting for the node (reported in inspect); 0 when unknown.
  virtual std::size_t backlog() const { return 0; }
};

struct node_runner_args {
  std::shared_ptr<const plan> graph;
  std::size_t index = 0;                 // into graph->nodes
  std::shared_ptr<publisher> pub;        // null: do not publish (replay)
  std::shared_ptr<store_writer> writer;  // null: do not store outputs
  std::shared_ptr<digest_chain> digest;  // null: no digest (see replay --digest)
  std::shared_ptr<status_board> board;
  std::shared_ptr<node_report> report;
  std::shared_ptr<stage_latency> latency;  // null: no latency metrics (replay)
  std::optional<std::string> checkpoint;   // restore this state first
  std::uint64_t seq_after = 0;  // no checkpoint: outputs continue after this seq (stored ones)
  // Warm start: outputs are computed and forwarded (to other warming nodes) but neither
  // published, stored nor numbered, until warm_done().
  bool warming = false;
  // publish_after_commit: each output waits in the publisher until the journal is committed
  // through the last record ingested when it was made (which covers every input it read).
  bool publish_after_commit = false;
  // Outputs numbered up to this seq are stored but not published: a process rebuilding its nodes
  // from the journal after a re-placement, whose subscribers had them from it or another process
  // (docs/cluster.md, "When a placed process dies").
  std::uint64_t quiet_through = 0;
  // Outputs numbered after this seq are stored but not published: the node moved to a standby
  // that joined, which publishes them (docs/cluster.md, "A standby that joins"). Null: all.
  std::shared_ptr<const std::atomic<std::uint64_t>> publish_through;
  // Time each kernel call for the compute histograms (metrics, measured costs): a live engine
  // sets it. A replay or a history build has no admin endpoint to show them, and two clock
  // reads a firing are a cost it need not pay.
  bool time_kernels = false;
  // The digest's batch is filled from this thread only (an inline replay): an output made only
  // to be digested is encoded straight into it. With actors, nodes encode on their own threads
  // and only the copy into the batch takes its lock.
  bool digest_in_place = false;
  // The board's counters and last output are updated every report_every-th message handled,
  // at a pause or warm start's end, and by an explicit report_all() (a failure puts its state
  // and reason there at once). 1 for a live engine, whose board an operator reads at any time;
  // an inline replay's is read once it ends (engine::replay reports every runner then, also
  // when it throws), and one lock and report a firing cost 5 % of a replay of 10,000 small
  // nodes.
  std::uint32_t report_every = 1;
};

// report_every in an inline replay: rare enough that the board's lock is off the firing path,
// often enough that a replay's board is never far behind if something reads it early.
inline constexpr std::uint32_t inline_report_every = 64;

class node_runner {
 public:
  node_runner(node_runner_args args, node_outlet& out);

  // Puts the counters and the last output on the board now (see report_every).
  void report_all();

  // Inputs. Each may fire buckets; none throws (a problem fails the node instead). received_ns:
  // when the source received the input that led here (stage_latency), 0 for none.
  void event(std::uint32_t port, std::uint64_t seq, std::int64_t ts, value_ptr v,
             std::int64_t received_ns = 0);
  void output(std::uint32_t port, std::uint64_t seq, std::int64_t bucket, value_ptr v,
              std::int64_t received_ns = 0);
  void watermark(std::uint32_t port, std::int64_t ts, std::int64_t received_ns = 0);

  // Paused: inputs are held in arrival order (at most max_held, the rest counted) and handled
  // in order on resume.
  void pause(bool paused);
  bool paused() const { return paused_; }
  // The names outputs are published under (strategies come and go).
  void set_names(std::vector<std::string> names);
  // Back from FAILED: cold (`fresh`: new window and kernel) or where it stands.
  void restart(bool fresh);
  // The warm start is over: outputs count from now on; the listed ports' upstreams numbered
  // their warm-up outputs on their own, so their next seq is taken as it comes.
  void warm_done(const std::vector<std::uint32_t>& renumbered_ports);

  std::string checkpoint() const;  // msgpack: window, kernel, seq, failure, counters
  // The last seq a checkpoint's node had made. Throws decode_error on other bytes.
  static std::uint64_t checkpoint_seq(const std::string& bytes);
  std::string window() const;      // msgpack of the window, for admin
  bool failed() const { return failed_; }
  const std::string& reason() const { return reason_; }  // why FAILED
  std::uint64_t out_seq() const { return out_seq_; }

  static constexpr std::size_t max_held = 100'000;

 private:
  template <class Feed>
  void handle(std::int64_t received_ns, Feed&& feed);
  void drain();
  void emit(std::int64_t bucket, value_ptr v);
  void fail(const std::string& reason);
  void late(std::uint32_t port, std::uint64_t seq, std::int64_t ts, const value_ptr& v);
  // Output `seq` is another process's to publish (publish_through).
  bool given_away(std::uint64_t seq) const {
    return args_.publish_through && seq > args_.publish_through->load(std::memory_order_acquire);
  }
  void restore(const std::string& bytes);

  void keep_names(std::vector<std::string> names);  // names_ and their encoders_

  node_runner_args args_;
  node_outlet& out_;
  const plan_node* spec_;
  node_key key_;  // spec_->id, as its output keys begin
  std::unique_ptr<window_cache> cache_;
  std::unique_ptr<kernel> kern_;
  std::vector<std::shared_ptr<kernel_fault>> faults_;  // SHOAL_FAILPOINTS (failpoints.hpp)
  kernel_input input_;
  std::vector<std::int64_t> port_interval_;  // upstream interval per port (0 for raw events)
  std::vector<std::string> names_;
  std::vector<output_encoder> encoders_;  // one per name, in the same order
  std::uint64_t out_seq_ = 0;
  std::uint64_t warm_seq_ = 0;
  std::int64_t forwarded_ts_ = INT64_MIN;  // subscribers know we are closed through this ts
  std::int64_t received_ns_ = 0;           // the input being handled: when its source got it
  std::uint64_t events_in_ = 0;
  std::uint64_t drains_ = 0;
  std::uint64_t skipped_failed_ = 0;  // ready buckets passed while FAILED
  std::uint64_t late_side_ = 0;       // late inputs published to <name>.late
  std::size_t window_bytes_ = 0;
  bool failed_ = false;
  std::string reason_;
  bool warming_ = false;
  bool paused_ = false;
  std::deque<std::function<void()>> held_;
  std::uint64_t held_overflow_ = 0;
  std::array<std::uint64_t, 10> compute_counts_{};
  double compute_sum_s_ = 0;
  // The last output, until report_all() puts it on the board (null: none since).
  value_ptr last_value_;
  std::uint64_t last_seq_ = 0;
  std::int64_t last_bucket_ = 0;
  // What the board's notes were built from (the kernel's notes version and the two counters).
  std::uint64_t notes_reported_ = UINT64_MAX;
  std::uint64_t skipped_reported_ = 0, late_reported_ = 0;
};

}  // namespace shoal
