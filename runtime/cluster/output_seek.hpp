#pragma once
// output_seek: where a reader of one node's subject in the stream ([cluster] stream_outputs,
// cluster_decl::output_subject) starts to get the outputs after a seq without reading every one
// before it (`shoal tail --from-stream --since SEQ` on a long history).
//
// A node's seqs rise along its subject, but for a batch the exporter sent again (a batch the
// cluster stored in part, up to output_exporter::batch_outputs long) and the copies of a moved
// node's old process (its own batches): a message never holds a seq a batch or more below one
// stored before it. So a binary search over stream sequences, each probe a direct get of the
// subject's next message, finds a message whose seq is two batches below the one wanted: every
// message before it holds a seq the reader skips.

#include <cstdint>
#include <string>

namespace shoal {

class jetstream_link;

// A stream sequence to read `subject` from, in the stream `stream`, so as to get every message
// holding a seq above `after` (and maybe some at or below it, which the reader skips). 1 when
// the stream does not allow direct gets (made by an engine before them, and not updated), or
// `after` is within two batches of the start. Throws cluster_error.
std::uint64_t output_seek(jetstream_link& link, const std::string& stream,
                          const std::string& subject, std::uint64_t after);

}  // namespace shoal
