#pragma once
// output_exporter ([cluster] stream_outputs): puts the outputs of the nodes this process
// publishes into the cluster's stream, each node on its own subject
// (cluster_decl::output_subject) with message id "<engine_id>:<NodeID>:<seq>", in seq order
// (docs/cluster.md, "Outputs in the stream"). It reads them from the data dir's committed
// outputs, the bytes the ZeroMQ subscribers got, so the live path never waits on the cluster
// and a cluster that does not answer costs lag, not outputs.
//
// Wherever a node runs, the stream holds each of its seqs once and in order (but for a seq a
// resend or a process taking the node filled in later): a process that
// starts exporting a node (a start, a take, a move) goes on from the last seq on its subject,
// and one that exported the same seqs meanwhile (the old process of a moved node, until it
// learns it moved) sends bytes JetStream stores once within the duplicate window. Every process
// computes a node's outputs byte for byte alike, so whichever copy arrives first is the one.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

class jetstream_link;
struct outgoing_message;

struct output_export_stats {
  std::size_t nodes = 0;         // exported now (with those dropped whose failing batch still goes)
  std::uint64_t sent = 0;        // outputs acknowledged this run (duplicates included)
  std::uint64_t duplicates = 0;  // acknowledged as stored already (another process's copy)
  std::uint64_t failures = 0;    // batches sent again
  std::uint64_t gaps = 0;        // seqs missing from a subject that this process never held
  // Seqs missing below a subject's end (a batch its process stored in part before it went)
  // that this process sent from its own outputs when it took the node.
  std::uint64_t filled = 0;
  // Outputs read from the data dir and not in the stream in the last pass (a batch at most per
  // node: a lower bound while a node's backlog lasts).
  std::uint64_t behind = 0;
  std::uint64_t passes = 0;  // over every node exported, since the start
  std::uint64_t reads = 0;   // reads of a node's stored outputs, since the start
  std::size_t holds = 0;     // held batches now (all nodes; at most max_holds per node)
  std::string last_error;
};

class output_exporter {
 public:
  static constexpr std::size_t batch_outputs = 256;
  // A pass over every node when woken (a commit, an acknowledgement of the journal), and at
  // least this often; between them, every held_recheck, the nodes whose outputs wait for the
  // journal's replication. Woken passes are spaced by three times the length of the last one's
  // read of the data dir (a graph of many nodes and a commit every few ms: those reads take a
  // quarter of a core at most), by min_gap at least and by pass_every at most.
  static constexpr std::chrono::milliseconds pass_every{50};
  static constexpr std::chrono::milliseconds held_recheck{5};
  static constexpr std::chrono::microseconds min_gap{500};
  // Per node, the batches held for the journal's replication, each with the journal position
  // it waits for. While the cluster does not answer, every pass that finds newer outputs would
  // add one: beyond this many, the newest takes the newer ones in (they wait a little longer,
  // for the later position), so memory stays bounded however long the outage.
  static constexpr std::size_t max_holds = 64;
  // A subject that ends before what this process holds of its node waits this long for the
  // process that held the missing seqs (it may still send them) before going on past them.
  static constexpr std::chrono::seconds default_gap_wait{10};
  // A node given away whose seqs through the one its new process goes on from are not all made
  // here (this process stopped computing it first): its subject's end is read this often, until
  // it holds that seq.
  static constexpr std::chrono::seconds given_recheck{1};

  // Connects (its own connection) and makes sure the stream exists. Throws cluster_error when
  // no server answers. Exports nothing until export_nodes names some. `replicated`: the journal
  // seq through which the data dir's journal is in the stream (called on the exporter's thread;
  // none: all of it, a standby's journal came from there).
  output_exporter(cluster_decl c, const store& db, std::function<std::uint64_t()> replicated = {},
                  std::chrono::milliseconds gap_wait = default_gap_wait);
  ~output_exporter();
  output_exporter(const output_exporter&) = delete;
  output_exporter& operator=(const output_exporter&) = delete;

  // The NodeIDs (hex) whose outputs this process publishes now: a node dropped stops at once
  // (but for a batch of it that failed: see left_), one added starts from the last seq on its
  // subject. `filling`: those of them whose outputs
  // before some seq this process is still making (a heir's backfill): a gap before what it holds
  // is waited out for as long as that lasts, not only for gap_wait. `until`: those of them that
  // this process gave to another, which publishes every seq after the one given here: exported
  // until the stream holds them through it (that process goes on from the subject's end with
  // what its data dir holds, which starts at the checkpoint it took the node from), then no
  // more.
  void export_nodes(std::set<std::string> ids, std::set<std::string> filling = {},
                    std::map<std::string, std::uint64_t> until = {});
  // Those of export_nodes' `until` that the stream holds through their seq: this process has
  // nothing more of them to send (the caller drops them; they are not sent beyond it meanwhile).
  std::map<std::string, std::uint64_t> given_through() const;
  // Sends what is stored until `drain` has passed, then stops. Returns whether every node's
  // stored outputs reached the stream.
  bool stop(std::chrono::milliseconds drain);
  output_export_stats stats() const;
  // What wakes the exporter for a pass (store_writer::on_commit, journal_replicator's
  // on_replicated, whose listeners it is: the position they pass is not needed): safe to call
  // from any thread, also once the exporter is gone.
  std::function<void(std::uint64_t)> waker() const;

 private:
  struct node_state {
    bool known = false;  // where its subject ends was read
    std::int64_t bucket = INT64_MIN;
    std::uint64_t seq = 0;  // the last seq in the stream (0: none)
    std::optional<std::chrono::steady_clock::time_point> gap_since;
    // In a gap, or given away and short of its seq: when to read the end again.
    std::chrono::steady_clock::time_point look_again;
    std::size_t waiting = 0;                           // in a gap: the outputs read, not sent
    // Since when its batch fails: sent again as it is while JetStream surely remembers its ids.
    std::optional<std::chrono::steady_clock::time_point> failing_since;
    std::uint64_t failing_through = 0;  // the last seq of that batch
    bool read_end_after = false;  // given back while failing: read the end once it went
    // The subject's seqs below its end (fill_holes), since the node was taken: looked at; the
    // first look, the first of the looks failing now, and the next look.
    bool holes_checked = false;
    std::optional<std::chrono::steady_clock::time_point> holes_since, holes_failing_since;
    std::chrono::steady_clock::time_point holes_look_again;
    // What the first look that found seqs missing saw: its window of seqs [lo, hi] (later looks
    // keep it, however far the subject went on meanwhile), the seqs this process lacked, and
    // the bucket of the seq before the first of them (where a read of the store for them
    // starts).
    std::uint64_t holes_lo = 0, holes_hi = 0;
    std::vector<std::uint64_t> holes_lacking;
    std::int64_t holes_after_bucket = INT64_MIN;
    std::vector<std::uint64_t> holes_filled;  // sent from here since, sorted
    void look_at_holes_again() {
      holes_checked = false;
      holes_since.reset();
      holes_failing_since.reset();
      holes_look_again = {};
      holes_lo = holes_hi = 0;
      holes_lacking.clear();
      holes_after_bucket = INT64_MIN;
      holes_filled.clear();
    }
    // Outputs through bucket `through` go once the stream holds the journal through `journal`;
    // those through `open_through` may go now.
    struct hold {
      std::uint64_t journal = 0;
      std::int64_t through = 0;
    };
    std::deque<hold> holds;
    std::int64_t open_through = INT64_MIN;
    std::size_t unsent = 0;  // as the last pass that looked at it found
  };
  void run();
  void loop();  // run()'s passes, until a stop's drain ends them
  // One batch of node `id` (`filling`: see export_nodes): whether more may be stored after it,
  // and how many it read and did not get into the stream.
  struct batch_result {
    bool more = false;
    std::size_t unsent = 0;
  };
  // `ends`: the data dir's output ends and journal, read this pass; null in a pass over the held
  // nodes only.
  // `until`: no seq after it is sent (UINT64_MAX: none). `left`: a batch of a node dropped
  // (left_).
  batch_result export_batch(const std::string& id, node_state& n, bool filling,
                            std::uint64_t replicated, const store::output_ends_read* ends,
                            std::uint64_t until, bool left = false);
  // Seqs missing from the node's subject below its end (n.seq, and `until`): a batch that the
  // process sending it before this one got stored in part (a leader change stores seqs k+1..
  // and not k), then stopped or died before its resend. Only when the subject holds fewer
  // messages than its seqs from its first, and only the last holes_window seqs are looked at
  // (where such a batch ends). Fills `fills` with those this process holds (seq, bytes: they go
  // at the front of the node's next batch, so that a newer seq still ends the subject, or alone
  // when found without a batch, naming the subject's end in a Shoal-End header) and
  // n.holes_lacking with those it lacks (its data dir starts after them: a heir's backfill may
  // store them yet, the process that gave the node away may still send them). Returns false
  // when the subject cannot be read in part (a stream without direct gets, or more messages
  // than a few windows' worth to read: not looked at). Throws cluster_error; never waits out a
  // cluster that cannot answer.
  struct fill {
    std::uint64_t seq = 0;
    std::string bytes;
  };
  bool fill_holes(const std::string& id, node_state& n, std::uint64_t until,
                  std::vector<fill>& fills);
  // export_batch's look at the holes, first when it has a batch to send after the subject's
  // end: its fills. Again (every holes_step, batch or not) while it lacks some that it may
  // still get (`filling`, or for gap_wait: only once its data dir holds some of them, or when
  // the wait is over, when those still lacking are said and counted as gaps), or while the
  // look fails (for half the duplicate window from the first failure).
  std::vector<fill> look_at_holes(const std::string& id, node_state& n, bool filling,
                                  std::uint64_t until);
  // After a publish with fills (under mu_): acknowledged (`duplicates` of the publish, `end` the
  // subject's end they were sent below), or not (looked at again: at once when they went with a
  // batch, which goes again without them; else as a failed look, every holes_step for half the
  // duplicate window from the first failure).
  void fills_sent(const std::string& id, node_state& n, const std::vector<fill>& fills,
                  std::size_t duplicates, std::uint64_t end);
  void fills_failed(const std::string& id, node_state& n, bool alone, const std::string& error);
  std::chrono::milliseconds holes_step() const;
  // A node's output's message id on its subject: "<engine_id>:<NodeID>:<seq>".
  std::string msg_id(const std::string& id, std::uint64_t seq) const;
  // The messages of fills sent below the subject's end n.seq (each naming it: Shoal-End).
  std::vector<outgoing_message> fill_messages(const std::string& id, const node_state& n,
                                              const std::vector<fill>& fills) const;
  // Whether the data dir holds one of n.holes_lacking now.
  bool holds_lacking(const std::string& id, const node_state& n);
  // The number of nodes exported now (under mu_): those wanted and those in left_.
  std::size_t nodes_now() const;
  static constexpr std::uint64_t holes_window = 2 * batch_outputs;
  static_assert(holes_window <= 2 * batch_outputs, "output_seek's margin is two batches");
  // A wake that outlives the exporter (its wakers may be called after it is gone).
  struct wake_signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
    void wake();
    void clear();
    // Until woken or d passed: whether it was woken (cleared for the next wait).
    bool wait_for(std::chrono::microseconds d);
  };

  cluster_decl c_;
  const store& db_;
  std::function<std::uint64_t()> replicated_;
  const std::chrono::milliseconds gap_wait_;
  std::unique_ptr<jetstream_link> link_;
  mutable std::mutex mu_;
  std::shared_ptr<wake_signal> wake_ = std::make_shared<wake_signal>();
  std::set<std::string> wanted_, filling_;      // under mu_
  std::map<std::string, std::uint64_t> until_;  // under mu_
  std::map<std::string, std::uint64_t> given_through_;  // under mu_
  // Under mu_, since the last pass began: given back or given again; dropped.
  std::set<std::string> ungiven_, dropped_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_;
  bool drained_ = false;
  bool finished_ = false;  // the thread returned
  std::condition_variable finished_cv_;
  output_export_stats st_;                   // under mu_
  std::map<std::string, node_state> nodes_;  // the thread's
  // The thread's: nodes dropped while a batch of theirs failed. A batch that failed may have
  // gone through in part, with a hole (a seq lost, later ones stored): it goes again, through
  // its last seq, until it is acknowledged whole or half the duplicate window has passed, so
  // the process that took the node over does not go on above a hole for good.
  std::map<std::string, node_state> left_;
  // The thread's, by node: the seq through which this process counted the seqs missing from
  // its subject as gaps (a node taken again does not count them again).
  std::map<std::string, std::uint64_t> gaps_counted_;
  std::set<std::string> left_ids_;           // under mu_: left_'s nodes, as the last pass left it
  std::uint64_t reads_ = 0;                  // the thread's; into st_ at each pass's end
  std::chrono::steady_clock::time_point last_whole_;  // the thread's: its last whole pass
  std::chrono::microseconds whole_gap_{min_gap};      // the thread's: see min_gap
  bool last_more_ = false;                            // the thread's: a node had more then
  std::thread thread_;
};

}  // namespace shoal
