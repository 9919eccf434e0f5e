#pragma once
// output_seek: where a reader of one node's subject in the stream ([cluster] stream_outputs,
// cluster_decl::output_subject) starts to get the outputs after a seq without reading every one
// before it (`shoal tail --from-stream --since SEQ` on a long history).
//
// A node's seqs rise along its subject, but for a batch the exporter sent again (a batch the
// cluster stored in part, up to output_exporter::batch_outputs long), the copies of a moved
// node's old process (its own batches) and the seqs a process that took the node found missing
// below the subject's end and sent with its first batch (output_exporter::holes_window, at most
// two batches below it): a message holds a seq two batches or more below one stored before it
// only in rarer cases (a partitioned process's publishes sent on its reconnect after the
// duplicate window; a missing seq a process sent once its backfill stored it). So a binary
// search over stream sequences, each probe a direct get of the subject's next message, finds a
// message whose seq is two batches below the one wanted: every message before it holds a seq the
// reader skips. The subject's next message from there must go on at the seq after the one wanted or
// below; otherwise the seek gives the subject's first message. A reader that later finds a node not
// going on at the seq after the one wanted reads again from the start (`shoal tail`,
// tail_stream.cpp).

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/cluster/jetstream_link.hpp"

namespace shoal {

// A stream sequence to read `subject` from, in the stream `stream` (`st`: its state, read once
// for several subjects), so as to get every message holding a seq above `after` (and maybe a
// few at or below it, which the reader skips): just after a message whose seq is two batches
// below `after`. The subject's first message when `after` is within two batches of the start
// (or the check below fails); the stream's first sequence when the subject has no message yet or
// the stream does not allow direct gets (made by an engine before them). `whole`, when given, is
// set to whether the read then gets the whole subject (its first message, or the stream's start):
// a reader that starts there has nothing of the subject before it to read again. Throws
// cluster_error.
// Patient: its gets wait out a cluster that cannot answer yet (jetstream_link::last_message).
std::uint64_t output_seek(jetstream_link& link, const std::string& stream,
                          const jetstream_link::stream_state& st, const std::string& subject,
                          std::uint64_t after, bool patient = true, bool* whole = nullptr);

// A seq of `subject` whose output is for a bucket before `bucket`, found by a binary search over
// stream sequences like output_seek's: a node's buckets rise with its seqs, so every output for
// `bucket` or later has a higher seq, wherever it is stored (a late copy holds the bucket of its
// seq). Near the last such seq when the subject is mostly in seq order; 0 when the subject's
// first message is for `bucket` or later (or no output), when it is empty, or when the stream
// does not allow direct gets. `bucket` is compared with outputs' buckets, each its start. `shoal
// tail --from-stream --from TIME` reads after it and skips the earlier buckets still between.
// Only node `node_id`'s outputs count: another node's on the subject (bytes no process of ours
// stores there) could else end the search past outputs wanted. Throws cluster_error (patient as
// output_seek).
std::uint64_t output_seq_before_bucket(jetstream_link& link, const std::string& stream,
                                       const jetstream_link::stream_state& st,
                                       const std::string& subject, const std::string& node_id,
                                       std::int64_t bucket, bool patient = true);

// Where a node's subject ends: the seq and bucket of its last message, or the later end that
// message names in its Shoal-End header (a seq filled below the end can be the last message,
// output_exporter). None: the subject is empty. Throws decode_error when its last message is no
// output, cluster_error as jetstream_link::last_message (patient likewise).
struct subject_end {
  std::uint64_t seq = 0;
  std::int64_t bucket = 0;
};
std::optional<subject_end> output_subject_end(jetstream_link& link, const std::string& stream,
                                              const std::string& subject, bool patient = true);

}  // namespace shoal
