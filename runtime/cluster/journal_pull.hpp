#pragma once
// journal_pull: an engine's journal read back from the cluster — the records of
// <subjects>.in.<engine_id> in journal order, each once. `shoal replay --cluster` writes them into
// a new data dir (with the config the engine recorded on <subjects>.config.<engine_id>); an
// engine whose data dir is behind the cluster (a new host, a dir restored from a backup)
// appends the records it lacks before it starts.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

class jetstream_link;
class store_writer;

struct pulled_journal {
  std::uint64_t records = 0;     // journal records handed on
  std::uint64_t lost = 0;        // of them, stand-ins for lost records this read put there
  std::uint64_t messages = 0;    // stream messages read (resends included)
  std::uint64_t stream_seq = 0;  // the last one's stream sequence
  bool config = false;           // pull_journal: the engine's config was found
};

// The engine's journal seq in a message id "<engine_id>:<seq>"; 0 when it is not one.
std::uint64_t journal_seq_of(const std::string& msg_id, const std::string& engine_id);

// Puts an engine's journal messages, as read from the stream, back in journal order: add()
// hands on each record after `after` once, in order. A resend stored twice is skipped; records a
// resend stored out of order wait for the ones before them.
class journal_order {
 public:
  using sink = std::function<void(std::uint64_t seq, std::string&& bytes)>;
  journal_order(std::string engine_id, std::uint64_t after)
      : engine_id_(std::move(engine_id)), next_(after + 1) {}
  // Throws cluster_error for a message that is not one of the engine's journal records.
  void add(const std::string& subject, std::uint64_t stream_seq, const std::string& msg_id,
           std::string data, const sink& f);
  std::uint64_t next() const { return next_; }  // the journal seq expected next
  // The first record held for a missing one before it (0: none held).
  std::uint64_t first_waiting() const { return ahead_.empty() ? 0 : ahead_.begin()->first; }
  // The seqs missing below the last one held, in order (none when nothing is held).
  std::vector<std::uint64_t> missing() const;

 private:
  std::string engine_id_;
  std::uint64_t next_;
  std::map<std::uint64_t, std::string> ahead_;
};

// Calls f(seq, bytes) for every journal record of c.engine_id after `after`, in journal order,
// each once: a resend stored twice is skipped, records a resend stored out of order are put
// back in order. Returns what it read. Throws cluster_error when the stream holds no journal of
// the engine or lacks a record (a hole), unless `record_lost` (the caller holds the engine's
// lease): then records missing below ones the stream holds are recorded as lost
// (record_lost_journal) and handed on so. `local_record`: the records the caller holds through
// `after` (data dir `dir`), checked against the stream's stand-ins (check_not_lost_here).
pulled_journal read_cluster_journal(
    jetstream_link& link, const cluster_decl& c, std::uint64_t after,
    const std::function<void(std::uint64_t, std::string&&)>& f, bool record_lost = false,
    const std::function<std::optional<std::string>(std::uint64_t)>& local_record = {},
    const std::string& dir = {});

// The journal record that stands for record `seq` of engine `engine_id` when the stream lacks it
// for good (a batch stored in part, a leader change dropping one record, and the host that
// journaled it lost before it sent it again): a rejected record of no stream, which no window
// takes, saying what happened. The process that takes the engine over puts it in the stream
// under the record's own message id, so every reader of the journal goes on past the hole alike
// (had the record itself come first, JetStream stores the stand-in as its duplicate: nothing).
std::string lost_journal_record(const std::string& engine_id, std::uint64_t seq);

// Puts lost_journal_record for each of `lost` (seqs of c.engine_id's journal) in the stream, and
// says so (an error in the log). Only the process holding the engine's lease may: it alone
// writes the journal. Returns how many it stored (the others were there by then). Throws
// cluster_error when the cluster does not take them.
std::uint64_t record_lost_journal(jetstream_link& link, const cluster_decl& c,
                                  const std::vector<std::uint64_t>& lost);
// Whether `bytes`, record `seq` of c.engine_id's journal, is the stand-in for a lost one.
bool is_lost_journal_record(const cluster_decl& c, std::uint64_t seq, std::string_view bytes);
// A data dir that holds record `seq` (`local`; none: it does not) as other bytes than the
// stream's stand-in for it `stand_in` is another history (the dir of the process whose record
// was lost, started again): throws cluster_error saying so, naming `dir`.
void check_not_lost_here(const cluster_decl& c, std::uint64_t seq, std::string_view stand_in,
                         const std::optional<std::string>& local, const std::string& dir);
// Where c.engine_id's journal ends in the stream.
struct journal_end {
  std::uint64_t seq = 0;
  std::string bytes;
  // The stand-ins the stream holds, when the subject was read through to find the end (none
  // otherwise).
  std::vector<std::uint64_t> lost;
};
// The last record of c.engine_id's journal in the stream: its subject's last message, unless
// that is a stand-in (written after the records above it): then the highest of all, read
// through the subject (a takeover that wrote stand-ins, until the journal goes on). None when
// the stream holds none.
std::optional<journal_end> last_journal_record(jetstream_link& link, const cluster_decl& c);

// Appends a record read from the cluster to a local journal (a control record as one, so the
// dir's meta says it holds runtime changes).
void append_to_journal(store_writer& w, std::string&& bytes);

// Writes the engine's whole journal and its recorded config into the new data dir `dir`.
pulled_journal pull_journal(const cluster_decl& c, const std::string& dir);

}  // namespace shoal
