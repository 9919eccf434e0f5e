#include "runtime/cluster/output_seek.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cluster/output_exporter.hpp"

namespace shoal {

namespace {

// The subject's next message at a stream sequence or after: where it is, and its output (none
// when its bytes are no output). Nullopt: past the subject's last message, or a follower's copy
// that lacks it yet.
struct probed {
  std::uint64_t stream_seq = 0;
  std::optional<Output> out;
};

struct subject_probe {
  jetstream_link& link;
  const std::string& stream;
  const std::string& subject;
  bool patient;
  decode_limits limits = stored_output_limits();

  std::optional<probed> operator()(std::uint64_t from) const {
    const auto m = link.next_message(stream, subject, from, patient);
    if (!m) return std::nullopt;
    probed p{m->stream_seq, std::nullopt};
    try {
      p.out = decode_output(m->data, limits);
    } catch (const decode_error&) {
    }
    return p;
  }

  // A binary search over stream sequences [lo, hi) whose probes are direct gets: `low`, the
  // probe at lo, is kept; returns the last kept probe it finds, a boundary past which the next
  // message is not kept (or there is none). Messages out of order may hide other boundaries:
  // the callers rely only on what the kept probe holds.
  template <class Keep>
  probed last_kept(std::uint64_t lo, std::uint64_t hi, probed low, const Keep& keep) const {
    while (hi - lo > 1) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (auto m = (*this)(mid); m && keep(*m)) {
        lo = mid;
        low = std::move(*m);
      } else {
        hi = mid;
      }
    }
    return low;
  }
};

}  // namespace

std::uint64_t output_seek(jetstream_link& link, const std::string& stream,
                          const jetstream_link::stream_state& st, const std::string& subject,
                          std::uint64_t after, bool patient, bool* whole) {
  constexpr std::uint64_t margin = 2 * output_exporter::batch_outputs;
  const std::uint64_t start = std::max<std::uint64_t>(st.first_seq, 1);
  bool ignored = false;
  bool& all = whole ? *whole : ignored;
  all = true;
  if (!st.allow_direct) return start;
  const subject_probe probe{link, stream, subject, patient};
  // Where the subject's first message is: nothing of it lies before, so a read that must not
  // skip anything starts there, not at the stream's start (a node placed or started late, with
  // a long stream before it). None yet (or a follower's copy that lacks it): the stream's start.
  const auto first = probe(start);
  if (!first) return start;
  if (after <= margin) return first->stream_seq;
  const std::uint64_t target = after - margin;
  // Kept: an output at or below target (bytes that are no output: read from before them).
  auto keep = [&](const probed& p) { return p.out && p.out->seq <= target; };
  if (!keep(*first)) return first->stream_seq;
  // Every message before the one found holds a seq below its seq + a batch, at or below
  // `after`: reading starts just after it.
  const probed low =
      probe.last_kept(start, std::max(st.last_seq + 1, first->stream_seq + 1), *first, keep);
  // A check, of the rarer late copies (see the header): from there the subject goes on at or
  // below after + 1. Otherwise seqs above `after` may lie before: read it whole. (With nothing
  // after it yet, the reader finds out from the next output: tail_stream.cpp reads again.)
  const std::uint64_t at = low.stream_seq + 1;
  if (const auto next = probe(at); next && (!next->out || next->out->seq > after + 1))
    return first->stream_seq;
  all = false;
  return at;
}

std::uint64_t output_seq_before_bucket(jetstream_link& link, const std::string& stream,
                                       const jetstream_link::stream_state& st,
                                       const std::string& subject, const std::string& node_id,
                                       std::int64_t bucket, bool patient) {
  if (!st.allow_direct) return 0;
  const subject_probe probe{link, stream, subject, patient};
  // Kept: the node's output for a bucket before `bucket`. Anything else (a later bucket, another
  // node's output, no output) is on the high side: only what is kept is relied on.
  auto keep = [&](const probed& p) {
    return p.out && p.out->id == node_id && p.out->bucket < bucket;
  };
  const std::uint64_t start = std::max<std::uint64_t>(st.first_seq, 1);
  const auto first = probe(start);
  if (!first || !keep(*first)) return 0;
  return probe.last_kept(start, std::max(st.last_seq + 1, first->stream_seq + 1), *first, keep)
      .out->seq;
}

std::optional<subject_end> output_subject_end(jetstream_link& link, const std::string& stream,
                                              const std::string& subject, bool patient) {
  const auto last = link.last_message(stream, subject, patient);
  if (!last) return std::nullopt;
  const Output o = decode_output(last->data, stored_output_limits());
  subject_end end{o.seq, o.bucket};
  std::uint64_t named_seq = 0;
  std::int64_t named_bucket = 0;
  if (!last->end.empty() &&
      std::sscanf(last->end.c_str(), "%" SCNu64 " %" SCNd64, &named_seq, &named_bucket) == 2 &&
      named_seq > end.seq)
    end = {named_seq, named_bucket};
  return end;
}

}  // namespace shoal
