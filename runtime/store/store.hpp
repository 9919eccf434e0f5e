#pragma once
// store: one LMDB environment per data dir with the databases of design §7 —
//   journal  u64 big-endian ingest seq  → journal record (msgpack Event or Watermark, + rejected)
//   outputs  NodeID bytes + bucket      → msgpack Output
//   state    NodeID bytes               → checkpoint of one node
//   meta     string                     → engine version, config, graph hash, last checkpoint
//   ledger   NodeID bytes + segment     → build mode's record of one node in one segment
//   retired  NodeID bytes + bucket      → outputs of nodes a build took out of the graph (reuse)
// Reads use short read transactions (never held across a long operation, so the file does not
// grow). Writes go through store_writer only (runtime/store/store_writer.hpp): LMDB allows one
// writer per environment.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/journal_record.hpp"

struct MDB_env;

namespace shoal {

class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// When a writable store's commits reach the disk.
enum class store_sync {
  // Each commit is flushed before it returns: a commit survives a power cut. Live engines.
  every_commit,
  // Commits stay in the page cache until sync(). A killed process loses nothing (the kernel
  // holds the pages); an OS crash may leave the dir unreadable. For dirs that are rebuilt, not
  // recovered: a replay's --out, which an interrupted replay removes anyway.
  on_sync,
};

class store {
 public:
  // Opens the environment in dir: for writing, creating dir and the databases, when create is
  // true (the caller holds the dir's dir_lock); read-only otherwise.
  explicit store(const std::string& dir, bool create = true,
                 store_sync sync = store_sync::every_commit);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  const std::string& dir() const { return dir_; }
  static bool exists(const std::string& dir);

  std::uint64_t journal_last() const;   // last ingest seq, 0 when empty
  std::uint64_t journal_count() const;  // records in the journal
  // Calls f(ingest seq, bytes) for up to `limit` records after `after`, in order, inside one
  // short read transaction. Returns how many were read.
  std::size_t read_journal(std::uint64_t after, std::size_t limit,
                           const std::function<void(std::uint64_t, std::string_view)>& f) const;
  // The bytes of journal record `seq`; nullopt when the journal has none.
  std::optional<std::string> journal_bytes(std::uint64_t seq) const;
  // The next batch: up to `limit` records after *pos, decoded, with *pos moved past them; empty
  // at the end of the journal. Throws decode_error for a record that does not decode.
  std::vector<journal_record> read_records(std::uint64_t* pos, std::size_t limit) const;
  // Whether any journal record is a control record (a runtime change). Answered from meta
  // "journal_controls" ("0" written when an engine starts an empty journal, "1" before its first
  // control record is journaled); a dir without it (older, or `fabricate`d before it) is read
  // through, record by record, without decoding.
  bool journal_has_controls() const;
  // Whether it holds a graph change (a submit or a remove; not a node restart or a stream's
  // time mode). Reads the journal unless the meta says it holds no controls at all.
  bool journal_has_graph_changes() const;
  static constexpr const char* controls_meta = "journal_controls";
  // Walks the journal backwards from the end, calling f until it returns false.
  void read_journal_backwards(const std::function<bool(std::uint64_t, std::string_view)>& f) const;

  std::uint64_t output_count() const;
  // Every output in key order (NodeID, bucket), read in batches of short transactions.
  void for_each_output(const std::function<void(std::string_view id_hex, std::int64_t bucket,
                                                std::string_view)>& f) const;

  // One node's outputs with after < bucket <= through, in bucket order, in short read
  // transactions.
  void for_each_output_of(
      std::string_view id_hex, std::int64_t after, std::int64_t through,
      const std::function<void(std::int64_t bucket, std::string_view)>& f) const;
  // Up to `limit` of one node's outputs with bucket > after, in bucket order, read in one short
  // transaction: (bucket, bytes). For a reader that follows a node batch by batch.
  std::vector<std::pair<std::int64_t, std::string>> outputs_of(std::string_view id_hex,
                                                               std::int64_t after,
                                                               std::size_t limit) const;
  // The same from the outputs a build retired (nodes no longer in the graph).
  void for_each_retired_output_of(
      std::string_view id_hex, std::int64_t after, std::int64_t through,
      const std::function<void(std::int64_t bucket, std::string_view)>& f) const;
  // Every NodeID (hex) with at least one stored output, in order.
  std::vector<std::string> output_ids() const;
  // First and last bucket of one node's stored outputs; nullopt when it has none.
  std::optional<std::pair<std::int64_t, std::int64_t>> output_range(std::string_view id_hex) const;
  // The last bucket of each given node's stored outputs (nodes with none left out), and the
  // journal's last ingest seq, read in one transaction: every output it shows was made from
  // journal records through that seq (store_writer commits records before their outputs). For a
  // reader that follows many nodes, at every commit.
  struct output_ends_read {
    std::uint64_t journal_last = 0;
    std::map<std::string, std::int64_t> last_bucket;
  };
  output_ends_read output_ends(const std::set<std::string>& ids_hex) const;
  // Checkpoints of nodes a build took out of the graph (kept in the ledger db): NodeID hex →
  // bytes.
  std::map<std::string, std::string> retired_states() const;
  // Every ledger record (build mode), in key order: NodeID hex, segment index, bytes.
  void for_each_ledger(const std::function<void(std::string_view id_hex, std::int64_t segment,
                                                std::string_view)>& f) const;
  // The last n outputs of one node (by NodeID), oldest first.
  std::vector<std::string> last_outputs(std::string_view id_hex, std::size_t n) const;

  std::optional<std::string> get_meta(const std::string& key) const;
  std::map<std::string, std::string> all_state() const;  // NodeID hex → checkpoint bytes

  // Drops this process's mapping of the pages read so far (MADV_DONTNEED). They stay in the
  // page cache and fault back in on the next read; without this, reading a long journal
  // through LMDB's memory map grows RSS by the size of the file.
  void release_mapped_pages() const;
  // Flushes every commit to the disk (what store_sync::on_sync leaves to the caller).
  void sync();
  // store_sync::on_sync: asks the kernel to start writing what was committed, without waiting
  // for it, so that sync() finds little left to write. Does nothing for every_commit.
  void start_writeback() const;
  bool syncs_each_commit() const { return sync_ == store_sync::every_commit; }

  MDB_env* env() const { return env_; }
  unsigned db_journal() const { return journal_; }
  unsigned db_outputs() const { return outputs_; }
  unsigned db_state() const { return state_; }
  unsigned db_meta() const { return meta_; }
  unsigned db_ledger() const { return ledger_; }    // 0 in a read-only dir without it
  unsigned db_retired() const { return retired_; }  // 0 in a read-only dir without it

 private:
  std::string dir_;
  MDB_env* env_ = nullptr;
  store_sync sync_;
  void* map_addr_ = nullptr;  // LMDB's map of data.mdb (mdb_env_info reports it only for FIXEDMAP)
  void for_each_in(unsigned dbi, std::string_view id_hex, std::int64_t after, std::int64_t through,
                   const std::function<void(std::int64_t, std::string_view)>& f) const;
  bool any_journal_record(const std::function<bool(std::string_view)>& match) const;
  unsigned journal_ = 0, outputs_ = 0, state_ = 0, meta_ = 0, ledger_ = 0, retired_ = 0;
};

// Output keys sort by NodeID, then by bucket numerically (sign bit flipped, big-endian).
std::string output_key(std::string_view id_hex, std::int64_t bucket);

// A NodeID as its keys begin, parsed from hex once by whoever stores many of its outputs.
class node_key {
 public:
  explicit node_key(std::string_view id_hex);
  std::string output_key(std::int64_t bucket) const;  // == shoal::output_key(id_hex, bucket)

 private:
  std::string bytes_;
};

std::string u64_key(std::uint64_t v);
std::uint64_t read_u64_key(std::string_view key);

}  // namespace shoal
