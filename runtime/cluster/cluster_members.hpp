#pragma once
// cluster_members: the processes that run engine <engine_id> and where they publish — the active
// engine and its standbys. Each is a key "<engine_id>.<instance>" in the key-value bucket
// <stream>_members, whose keys expire heartbeat_ttl after their last write: a member rewrites its
// own every third of that, a clean stop removes it, a dead member's expires. A standby publishes
// the outputs the active engine publishes (same seqs, same bytes), so a subscriber of every
// member (`shoal tail --cluster`) sees no gap when the active one dies and a standby takes over.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;

struct cluster_member {
  std::string instance;  // names the process: its data dir's (default "<host>-<pid>")
  // active, standby, placing (waiting for a placement), fenced, or away (stopped, its key left to
  // expire: a placed process that may be back within heartbeat_ttl keeps its nodes meanwhile)
  std::string role;
  std::string publish;   // its publish endpoint, as a subscriber on another host connects to it
  std::string snapshot;  // its snapshot endpoint ("" when it has none)
  std::string graph;     // the hash of the graph it runs: nodes are placed on a same-graph member
  // Placed ([cluster] members > 1): the last seq it had published of each node it publishes, as
  // of about a second before the record was written. When it dies, the process its nodes go to
  // publishes what came after (docs/cluster.md, "When a placed process dies").
  std::map<std::string, std::uint64_t> published;
  // Placed: what each node it publishes was measured to cost here (kernel seconds per input
  // event), once it has run long enough to say: the active process places by it.
  std::map<std::string, double> costs;
  // The last journal record it holds (the active process: committed; a standby: followed), and
  // how old its lag is (the active process: the replication lag's age; a standby: how long ago
  // it found the oldest record it has not taken in the stream), as of its last write.
  std::uint64_t journal = 0;
  std::int64_t lag_ms = 0;
};

inline constexpr const char* away_role = "away";

std::string members_bucket(const cluster_decl& c);

// A name for a process that keeps it across restarts ("<host>-<8 hex digits>"): an engine keeps
// it in its data dir, so a restarted process is placed the nodes it computed before.
std::string new_member_instance();

// An endpoint this process bound, as another host reaches it: a wildcard address (*, 0.0.0.0,
// [::]) becomes this host's name.
std::string advertised_endpoint(const std::string& bound);
// Whether an endpoint names this host's loopback (127.*, localhost, [::1]): no other host can
// connect to it.
bool loopback_endpoint(const std::string& endpoint);

// This process's membership: written at once (throws cluster_error when the cluster does not
// answer), then kept on a thread of its own; removed when destroyed.
class member_heartbeat {
 public:
  member_heartbeat(const cluster_decl& c, cluster_member me);
  ~member_heartbeat();
  member_heartbeat(const member_heartbeat&) = delete;
  member_heartbeat& operator=(const member_heartbeat&) = delete;
  // A standby that took over is active.
  void set_role(const std::string& role);
  // Written with the next renewal.
  void set_published(std::map<std::string, std::uint64_t> published);
  void set_costs(std::map<std::string, double> costs);
  void set_journal(std::uint64_t journal, std::int64_t lag_ms);
  // What this process said it published in the write the cluster acknowledged two writes
  // before the last one (empty before there were three). The active process of a placed engine
  // lists the members at each renewal, so it has most likely read that write or a later one.
  // A placed process's checkpoint goes to the cluster only once this covers it, so that its
  // heir, which publishes from the seq handed on (the last the active process read), can most
  // likely start from it; the heir refuses one past that seq (it would leave a gap) and
  // rebuilds instead.
  std::map<std::string, std::uint64_t> listed_published() const;
  // Its key stays when this is destroyed, written once more with the role away (it expires
  // heartbeat_ttl later if the process does not come back): a placed process that restarts on
  // its data dir is not taken for gone meanwhile, and keeps its nodes.
  void keep_on_exit();
  // What destroying it does, once: stops renewing, then writes the key once more (keep_on_exit)
  // or removes it. True when it was written and the cluster acknowledged it: what it says it
  // published is there for the active process to read.
  bool leave();
  std::string instance() const { return me_.instance; }
  // Every live member of this engine, this one included, as last read from the cluster (about
  // once per heartbeat_ttl, by the renewals — at every renewal on the active process of a placed
  // engine: an admin request never waits on a cluster that does not answer), and why the last
  // renewal failed ("" when it did not).
  std::vector<cluster_member> members() const;
  // What each member said it published, the highest seq of each node any listing of this process
  // found (a member gone since, its key expired, included): a seq published once stays
  // published. A placed standby that takes the lease of an active process that died hands the
  // dead one's last report on with its nodes (its key may be gone by the time it places).
  std::map<std::string, std::map<std::string, std::uint64_t>> published_seen() const;
  // Lists the members now, on the caller's thread (published_seen then holds what each said in
  // its last write: a process that stopped cleanly just before, its last record). Throws
  // cluster_error.
  void list_now();
  // The members whose last listing by this process gave them `role` (also those gone since).
  std::set<std::string> seen_as(const std::string& role) const;
  // When the listing members() returns began (the epoch when none succeeded yet).
  std::chrono::steady_clock::time_point members_read_at() const;
  std::string last_error() const;

 private:
  // Under mu_: a listing begun at `at` (the newer one stays in members()).
  void note_listing(std::vector<cluster_member> ms, std::chrono::steady_clock::time_point at);
  cluster_decl c_;
  std::string key_;
  std::unique_ptr<jetstream_link> link_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  cluster_member me_;
  std::vector<cluster_member> members_;
  std::map<std::string, std::map<std::string, std::uint64_t>> published_seen_;
  std::map<std::string, std::string> role_seen_;  // each member's role, as last listed
  std::deque<std::map<std::string, std::uint64_t>> written_published_;  // the last three
  std::chrono::steady_clock::time_point members_read_at_{};
  std::string error_;
  bool stopping_ = false, dirty_ = false, keep_ = false, left_ = false;
  std::uint64_t renewals_ = 0;  // the keeper's own
  std::thread keeper_;
  void write(bool patient = false);
  void renew();
};

// The seq MEMBER said it published of node ID in the listing LIVE: nullopt while it said nothing
// of it, or is not listed. 0: it publishes the node and the node made no output yet (a node that
// never fired), so every output of it is that member's to publish.
std::optional<std::uint64_t> said_published(const std::vector<cluster_member>& live,
                                            const std::string& member, const std::string& id);

// A member record as its key holds it; nullopt for bytes that are not one.
std::optional<cluster_member> decode_member(const std::string& value);

// The live members of engine c.engine_id, in key order. Throws cluster_error.
std::vector<cluster_member> read_members(jetstream_link& link, const cluster_decl& c);

// The members of engine c.engine_id, read again every `every` on a thread of its own: a cluster
// slow to answer (each read may wait out its requests) never holds up the reader's own loop —
// `shoal tail --cluster` goes on printing what its sockets receive meanwhile.
class member_watch {
 public:
  // Connects (its own connection, requests of at most `request`) and reads once before
  // returning. Throws cluster_error.
  member_watch(const cluster_decl& c, const std::string& connection_name,
               std::chrono::milliseconds every, std::chrono::milliseconds request);
  ~member_watch();
  member_watch(const member_watch&) = delete;
  member_watch& operator=(const member_watch&) = delete;
  // The members as read since the last call (the first call: the read made at construction),
  // or nothing when no read succeeded since then (a read that fails keeps what the reader has).
  std::optional<std::vector<cluster_member>> take_update();

 private:
  cluster_decl c_;
  std::chrono::milliseconds every_;
  std::unique_ptr<jetstream_link> link_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::vector<cluster_member>> update_;
  bool stopping_ = false;
  std::thread reader_;
  void read_on();
};

}  // namespace shoal
