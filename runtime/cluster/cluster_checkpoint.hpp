#pragma once
// cluster_checkpoint: an engine's checkpoint kept in the cluster (design §12), so that a host
// taking the engine over on an empty data dir restores its nodes there and reads only the
// journal after it, instead of computing the whole journal again.
//
// In the key-value bucket <stream>_checkpoints (libnats 3.4.1 has no object store): the
// checkpoint, encoded once, is cut into chunks under the servers' max_payload, written under
// <engine_id>.<slot>.<i>, then <engine_id>.head names the slot, the chunk count, the size and
// the SHA-256 of the whole. The two slots alternate, so a reader never finds the head naming
// chunks half overwritten unless two writes passed while it read (it reads again). The head is
// written revision-checked, and never with an older journal position than it holds: a process
// that lost the engine cannot put an older checkpoint over its successor's.
//
// A checkpoint names the journal history it belongs to: the SHA-256 of the journal record at
// its position. A dir whose record there differs (a stream made anew under the same engine_id, a
// process fenced without knowing it whose records the stream deduplicated against its
// successor's) does not restore it, and a writer replaces a head of another history.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "messages/value.hpp"
#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;
class store;
class store_writer;

// A journal record of this process's dir by seq (none: not in it).
using journal_record_fn = std::function<std::optional<std::string>(std::uint64_t seq)>;
// The SHA-256 hex a checkpoint at `pos` names: of the record there, "" at 0; none when the
// journal lacks it.
std::optional<std::string> journal_record_sha256(const journal_record_fn& journal,
                                                 std::uint64_t pos);

// What a data dir's checkpoint is (store meta "checkpoint" and the state db), with what says
// which engine it fits.
struct cluster_checkpoint {
  std::uint64_t journal_pos = 0;             // every journal record through it went into the state
  std::string journal_sha256;                // of the journal record at journal_pos ("" at 0)
  std::string base_graph_hash;               // of the config, before runtime strategy changes
  std::string meta;                          // the store's meta "checkpoint" (msgpack)
  std::map<std::string, std::string> state;  // NodeID hex → the node's checkpoint bytes
};

std::string encode_cluster_checkpoint(const cluster_checkpoint& cp);
// Throws decode_error on bytes that are not an encoded checkpoint.
cluster_checkpoint decode_cluster_checkpoint(std::string_view bytes);

struct checkpoint_put {
  bool written = false;   // false: the cluster holds one at this position or later
  std::size_t bytes = 0;  // the encoded checkpoint
  std::size_t chunks = 0;
  std::uint64_t held = 0;  // not written: the journal position of the one the cluster holds
};

// A process's last checkpoint in the cluster and the one before it (a heir's fallback).
struct process_checkpoints {
  std::optional<cluster_checkpoint> latest, previous;
  std::string latest_why_not;    // when the last one is damaged (the one before it read)
  std::string previous_why_not;  // when the one before exists but cannot be read
};

// The checkpoint a heir starts a process's share from: the latest that `unfit` finds nothing
// against (it returns why a checkpoint cannot serve, "" when it can), else the one before it.
struct chosen_checkpoint {
  std::optional<cluster_checkpoint> checkpoint;  // none: why_not says why neither serves
  bool previous = false;                         // the one before the latest
  std::string latest_why_not;                    // why the latest did not serve (for the log)
  std::string why_not;
  bool none_held = false;  // the cluster holds no checkpoint of it (why_not says so too)
};
chosen_checkpoint choose_checkpoint(
    process_checkpoints cps, const std::function<std::string(const cluster_checkpoint&)>& unfit);

// The key-value bucket every checkpoint of the stream's engines goes in: "<stream>_checkpoints".
std::string checkpoints_bucket(const cluster_decl& c);

// The name a placed process's checkpoints go under (its share of the nodes, each process at its
// own journal position): "<engine_id>.<instance>", beside the engine's own "<engine_id>".
std::string process_checkpoint_name(const cluster_decl& c, const std::string& instance);

// The checkpoints of one engine (c.engine_id) in the cluster, or of one placed process of it
// (`name`, process_checkpoint_name).
class checkpoint_store {
 public:
  // Makes sure the bucket exists (c.replicas copies, keys never expire). `chunk_bytes` 0: the
  // servers' max_payload less room for the headers. `name` empty: c.engine_id. Throws
  // cluster_error.
  checkpoint_store(jetstream_link& link, const cluster_decl& c, std::size_t chunk_bytes = 0,
                   std::string name = {});
  // Writes cp unless the cluster holds one at cp.journal_pos or later of the same journal
  // history (`journal` reads this process's records: a head whose record there differs is of
  // another history, and replaced; without it, any later head stands). `writer` names the
  // process in the head. Throws cluster_error (the cluster did not answer, or refused the head
  // for another reason than a write that came first).
  checkpoint_put put(const cluster_checkpoint& cp, const std::string& writer,
                     const journal_record_fn& journal = {});
  // The last checkpoint written whole, or none. Throws cluster_error when the head names
  // chunks that are missing or do not add up to its SHA-256 (also after reading again).
  std::optional<cluster_checkpoint> get();
  // The last one and the one written before it, as one head names them (the previous one's
  // chunks in the other slot): none before there were two, or in a head written before heads
  // named it. previous_why_not says why the one before cannot be read (damaged, or overwritten
  // by a write meanwhile). A damaged last one leaves `latest` empty with latest_why_not, when
  // the one before it reads; throws cluster_error when neither does (or the head cannot).
  process_checkpoints get_both();
  const std::string& bucket() const { return bucket_; }

 private:
  process_checkpoints read(bool with_previous);

  jetstream_link& link_;
  std::string bucket_, head_key_, name_;
  std::string what_;  // "engine E", or "process P of engine E", for messages
  std::size_t chunk_bytes_;
};

// Whether checkpoint cp fits a dir running the config of `base_graph_hash` whose journal
// (`journal`, journal_last records) is the one it belongs to: the same config, a position the
// journal reaches with the same record there, a meta naming that position. why_not (empty: it
// fits) goes after "the checkpoint " in a message; meta is the checkpoint's, decoded.
struct checkpoint_fit {
  std::string why_not;
  Value meta;
};
checkpoint_fit fit_checkpoint(const cluster_checkpoint& cp, const std::string& base_graph_hash,
                              const journal_record_fn& journal, std::uint64_t journal_last);

// An engine started on an empty data dir, whose journal it has just taken from the cluster:
// writes the cluster's latest checkpoint into the dir (the nodes' state and meta "checkpoint",
// one transaction) when it fits: the same config (`base_graph_hash`), the dir's journal
// through its position with the same record there (the same history), a checkpoint of every
// node (not a placed process's share). When the latest does not (damaged, say), the one before
// it when that one does. Otherwise, or when the cluster holds none, writes nothing and says why
// (`why_not`): the engine then computes the journal from its start.
struct checkpoint_restore {
  bool restored = false;
  std::uint64_t journal_pos = 0;
  std::size_t nodes = 0, bytes = 0;
  std::int64_t ms = 0;
  std::string why_not;
  bool previous = false;       // the one before the latest: the latest did not serve, as
  std::string latest_why_not;  // this says
};
checkpoint_restore restore_cluster_checkpoint(const cluster_decl& c,
                                              const std::string& base_graph_hash, const store& db,
                                              store_writer& w);

// The last two checkpoints of placed process `instance` (checkpoint_store::get_both): a heir
// takes the latest it can (a stop's may be past what the active process read of that process,
// or past its own dir's checkpoint; choose_checkpoint). Throws as get_both does.
process_checkpoints read_process_checkpoints(const cluster_decl& c, const std::string& instance);

// The placed processes of engine c.engine_id whose checkpoint the bucket holds (a head with a
// value), in name order. Throws cluster_error.
std::vector<std::string> checkpointed_processes(jetstream_link& link, const cluster_decl& c);
// Removes placed process `instance`'s checkpoint from the cluster, leaving no marker: its chunks,
// then its head (a removal cut short leaves the head, so the next one finds it again). Throws
// cluster_error.
void remove_process_checkpoint(jetstream_link& link, const cluster_decl& c,
                               const std::string& instance);

// Puts a process's checkpoints into the cluster (the active engine's, or a placed process's
// share) on a thread of its own, off the engine's path: at most one a second, and only once the
// cluster holds the journal through its position (a host restoring it then finds every record
// after it in the stream). Two wait at most: the oldest offered and the latest. The latest goes
// once the journal through it is in the cluster, else the oldest does once it is there: were each
// newer one to take the waiting one's place, a replication lag longer than the time between
// checkpoints would let none go. With the one being written that is three checkpoints in memory.
class checkpoint_uploader {
 public:
  struct stats {
    std::uint64_t journal_pos = 0;  // of the last checkpoint in the cluster (from this process)
    std::uint64_t uploads = 0, failures = 0, skipped = 0;
    std::size_t bytes = 0, chunks = 0;
    std::int64_t last_ms = 0;  // how long the last one took to write
    std::string last_error;
  };
  // `replicated` says through which journal record the cluster holds the journal; `journal`
  // reads this dir's records (the one a checkpoint names, a head's of another history). `name`:
  // a placed process's (process_checkpoint_name), empty for the engine's. Connects (its own
  // connection). Throws cluster_error.
  checkpoint_uploader(const cluster_decl& c, std::string writer,
                      std::function<std::uint64_t()> replicated, journal_record_fn journal,
                      std::string name = {});
  ~checkpoint_uploader();
  checkpoint_uploader(const checkpoint_uploader&) = delete;
  checkpoint_uploader& operator=(const checkpoint_uploader&) = delete;

  void offer(cluster_checkpoint cp);
  // A clean stop: waits up to `wait` for the checkpoint offered last to go (no second's gap
  // now), then stops. Returns whether it went, or the cluster held one as new (else a host taking
  // over starts from an older one); true when none was offered.
  bool finish(std::chrono::milliseconds wait);
  // Stops at once (what waits is dropped: a fenced process must write nothing more).
  void stop();
  stats snapshot() const;

 private:
  void run();

  std::unique_ptr<jetstream_link> link_;
  std::unique_ptr<checkpoint_store> store_;
  std::string writer_;
  std::function<std::uint64_t()> replicated_;
  journal_record_fn journal_;
  std::mutex stop_mu_;  // a fence (the lease's thread) and the engine's stop may meet
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<cluster_checkpoint> waiting_;
  // The latest offered after waiting_: it goes next, or instead once the cluster holds the
  // journal through its own position too.
  std::optional<cluster_checkpoint> next_;
  bool busy_ = false;       // a checkpoint is being written
  bool finishing_ = false;  // finish(): the last one goes at once
  // The newest offered; the newest written, or found no newer than the cluster's.
  std::uint64_t offered_through_ = 0, settled_through_ = 0;
  bool stopping_ = false;
  stats st_;
  std::thread thread_;
};

}  // namespace shoal
