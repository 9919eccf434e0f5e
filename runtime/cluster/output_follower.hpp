#pragma once
// output_follower: one node's outputs read from its subject in the stream ([cluster]
// stream_outputs), each seq once and in seq order from the seq after a given one, whichever
// process sent it. It is the reader a node placed on one process needs for an upstream placed
// on another, an edge between processes (docs/cluster.md, "Not built yet"), and the piece of it
// that a window's determinism rests on: a window takes its inputs in order, so a seq stored
// after later ones (a batch the cluster stored in part and that was sent again; a hole filled by
// the process that took the node) is waited for, and the later ones are held until it comes.
// `shoal tail --from-stream` instead prints such a seq where it comes and says so.
//
// Skipped, and counted: a seq stored twice (a publish retried after the duplicate window), the
// copies a moved node's old process sent, a message of another node, one that does not decode.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "messages/records.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

// More later seqs came than the follower holds while it waited for `seq`: the subject lacks it
// (a hole no process filled; docs/cluster.md says when one cannot be).
class output_gap : public std::runtime_error {
 public:
  output_gap(const std::string& what, std::uint64_t seq) : std::runtime_error(what), seq(seq) {}
  std::uint64_t seq;
};

struct output_follower_stats {
  std::uint64_t delivered = 0;    // outputs handed on, in seq order
  std::uint64_t duplicates = 0;   // a seq read again (stored twice, or already held)
  std::uint64_t foreign = 0;      // another NodeID's output on the subject
  std::uint64_t undecodable = 0;  // not an output
  std::uint64_t rereads = 0;      // reads from the stream's start after a seek (read_again)
};

class output_follower {
 public:
  // Follows `node_id`'s subject in `c`'s stream through `link`, which must outlive it, and hands
  // on seqs after+1, after+2, ...; `after` 0 reads from the stream's start, any other is sought
  // (output_seek: a few direct gets, not a read of the whole subject; within two batches of the
  // start, its first message). At most `max_held` later
  // seqs are held while one is waited for. Throws cluster_error.
  output_follower(jetstream_link& link, const cluster_decl& c, std::string node_id,
                  std::uint64_t after, std::size_t max_held = 100'000);
  output_follower(const output_follower&) = delete;
  output_follower& operator=(const output_follower&) = delete;
  ~output_follower();

  // The output with seq last() + 1, waiting up to timeout_ms for it; none when it has not come
  // by then. Throws cluster_error when the cluster does not answer, output_gap when more than
  // max_held later seqs came without it.
  std::optional<Output> next(std::int64_t timeout_ms);
  // The last seq handed on (`after` until the first).
  std::uint64_t last() const { return last_; }
  // How many later seqs wait for last() + 1 (0: none; it is not known to be missing).
  std::size_t held() const { return held_.size(); }
  const output_follower_stats& stats() const { return stats_; }

 private:
  void take(const stored_message& m);
  // A seq wanted may lie before where the seek began: a resent batch or a filled hole stored
  // after later seqs, and a probe of the seek landing on such a message (output_seek's rarer
  // cases). Read once from the stream's start, skipping the stream sequences from from_ below
  // `read_through` (read already); nothing when the read began at the start, or read again
  // already. It costs a read of the stream when the seq is a hole yet to be filled at its end
  // instead, or the subject holds a seq twice. Throws cluster_error, the read going on as it was.
  void read_again(std::uint64_t read_through);
  // Held seqs that make read_again go on a busy subject, whose reader never pauses.
  static constexpr std::size_t reread_held = 1024;

  jetstream_link& link_;
  std::string stream_, subject_, node_id_;
  std::uint64_t after_, last_;
  std::size_t max_held_;
  std::uint64_t first_ = 1, from_ = 1;  // the stream's first sequence; where the read began
  bool sought_ = false;  // it began past the subject's first message (output_seek's `whole`)
  std::uint64_t seen_ = 0;              // the last stream sequence read
  bool reread_ = false;
  bool counted_ = false;         // the subject's messages counted, at the first pause after a seek
  std::uint64_t reread_at_ = 0;  // in the second read, messages from from_ below it were read
  std::map<std::uint64_t, Output> held_;
  std::unique_ptr<jetstream_link::reader> reader_;
  output_follower_stats stats_;
};

}  // namespace shoal
