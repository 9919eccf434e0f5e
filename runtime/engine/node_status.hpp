#pragma once
// node_status: what each node actor reports about itself (state, reason, counters), kept in a
// board the engine, the CLI report and (later) the admin socket read without messaging actors.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "messages/value.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

// BLOCKED: an upstream is FAILED (or BLOCKED), so nothing new reaches this node. PAUSED is
// shown when an operator holds the node's inputs.
enum class node_state { warming, running, paused, failed, blocked };
inline constexpr node_state all_node_states[] = {node_state::warming, node_state::running,
                                                 node_state::paused, node_state::failed,
                                                 node_state::blocked};
const char* to_string(node_state s);

struct node_report {
  std::string id;
  std::string kind;
  std::vector<std::string> names;
  node_state state = node_state::warming;
  std::string reason;  // why FAILED, or which upstream blocks it
  std::uint64_t events_in = 0;
  std::uint64_t outputs = 0;
  // Outputs through this seq are not published by this process: its subscribers had them from
  // the process it took the node from, or from itself before a rebuild (0: none held back).
  std::uint64_t quiet_through = 0;
  std::uint64_t late_dropped = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t missing = 0;
  std::uint64_t rejected = 0;
  std::uint64_t gaps = 0;  // inputs missed: another engine's seq, or a scan_number, jumped
  std::int64_t last_bucket = 0;
  // Event time through which the node has closed its buckets and told its subscribers
  // (INT64_MIN before the first); the freshest stream's minus this is its event-time lag.
  std::int64_t watermark = INT64_MIN;
  bool stream = false;  // a source stream (pass 0)
  bool idle = false;    // a source stream its source found quiet (idle watermarks)
  std::size_t window_bytes = 0;
  std::map<std::string, std::uint64_t> notes;  // kernel notes: why values were withheld
  // Last output, for inspect.
  value_ptr last_value;
  std::uint64_t last_seq = 0;
  // Messages waiting in the actor's mailbox when it last handled one.
  std::size_t mailbox = 0;
  bool paused = false;
  std::size_t held = 0;             // inputs held while paused
  std::uint64_t held_overflow = 0;  // inputs dropped because the hold was full
  // Kernel compute time: counts per upper bound of compute_bounds_s, and their sum.
  std::array<std::uint64_t, 10> compute_counts{};
  double compute_sum_s = 0;
};

// Histogram bounds (seconds) of node compute time; the last bucket is +Inf.
inline constexpr std::array<double, 9> compute_bounds_s{1e-6, 5e-6, 1e-5, 5e-5, 1e-4,
                                                        5e-4, 1e-3, 5e-3, 1e-2};

// The states an operator sees, from the reports in `g`'s order: PAUSED while held, BLOCKED
// below a FAILED or BLOCKED node (the reason names it). Reports of nodes not in g pass as is.
std::vector<node_report> effective_reports(const plan& g, std::vector<node_report> reports);

class status_board {
 public:
  // Each node actor owns one entry and updates it after handling a message.
  std::shared_ptr<node_report> add(node_report initial);
  template <class F>
  void update(const std::shared_ptr<node_report>& r, F&& f) {
    std::lock_guard lock(mu_);
    f(*r);
  }
  std::vector<node_report> snapshot() const;
  // A node stopped at runtime (its strategy was removed).
  void remove(const std::shared_ptr<node_report>& r);

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<node_report>> reports_;
};

// A node's report on `board`, as it starts.
std::shared_ptr<node_report> add_node_report(status_board& board, const plan_node& n);

}  // namespace shoal
