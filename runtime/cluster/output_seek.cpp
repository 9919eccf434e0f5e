#include "runtime/cluster/output_seek.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cluster/output_exporter.hpp"

namespace shoal {

std::uint64_t output_seek(jetstream_link& link, const std::string& stream,
                          const jetstream_link::stream_state& st, const std::string& subject,
                          std::uint64_t after, bool patient) {
  constexpr std::uint64_t margin = 2 * output_exporter::batch_outputs;
  const std::uint64_t start = std::max<std::uint64_t>(st.first_seq, 1);
  if (after <= margin || !st.allow_direct) return start;
  const std::uint64_t target = after - margin;
  const decode_limits limits = stored_output_limits();
  // The subject's first message at `from` or after (none: past its last, or a follower's copy
  // that lacks it yet; either way nothing to skip): where it is, and its seq.
  struct found {
    std::uint64_t stream_seq = 0, seq = 0;
  };
  auto probe = [&](std::uint64_t from) -> std::optional<found> {
    const auto m = link.next_message(stream, subject, from, patient);
    if (!m) return std::nullopt;
    try {
      return found{m->stream_seq, decode_output(m->data, limits).seq};
    } catch (const decode_error&) {
      return found{m->stream_seq, UINT64_MAX};  // not an output: read from before it
    }
  };
  std::optional<found> low = probe(start);
  if (!low || low->seq > target) return start;
  // Invariant: the subject's next message from lo is `low`, whose seq is at or below target;
  // from hi on, the next one holds a higher seq, or there is none. Every message before `low`
  // holds a seq below low->seq + a batch, at or below `after`: reading starts just after it.
  std::uint64_t lo = start, hi = std::max(st.last_seq + 1, low->stream_seq + 1);
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    const auto m = probe(mid);
    if (m && m->seq <= target) {
      lo = mid;
      low = m;
    } else {
      hi = mid;
    }
  }
  // A check, of the rarer late copies (see the header): from there the subject goes on at or
  // below after + 1. Otherwise seqs above `after` may lie before: read it all. (With nothing
  // after it yet, the reader finds out from the next output: tail_stream.cpp reads again.)
  const std::uint64_t at = low->stream_seq + 1;
  if (const auto next = probe(at); next && next->seq > after + 1) return start;
  return at;
}

std::uint64_t output_seq_before_bucket(jetstream_link& link, const std::string& stream,
                                       const jetstream_link::stream_state& st,
                                       const std::string& subject, const std::string& node_id,
                                       std::int64_t bucket, bool patient) {
  if (!st.allow_direct) return 0;
  const decode_limits limits = stored_output_limits();
  // The subject's first message at `from` or after when it is an output for a bucket before
  // `bucket`: its stream sequence and seq. Anything else (none, a later bucket, no output) is on
  // the high side: the search only relies on what it keeps being such an output.
  struct found {
    std::uint64_t stream_seq = 0, seq = 0;
  };
  auto probe = [&](std::uint64_t from) -> std::optional<found> {
    const auto m = link.next_message(stream, subject, from, patient);
    if (!m) return std::nullopt;
    try {
      const Output o = decode_output(m->data, limits);
      if (o.id == node_id && o.bucket < bucket) return found{m->stream_seq, o.seq};
    } catch (const decode_error&) {
    }
    return std::nullopt;
  };
  const std::uint64_t start = std::max<std::uint64_t>(st.first_seq, 1);
  std::optional<found> low = probe(start);
  if (!low) return 0;
  std::uint64_t lo = start, hi = std::max(st.last_seq + 1, low->stream_seq + 1);
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (const auto m = probe(mid)) {
      lo = mid;
      low = m;
    } else {
      hi = mid;
    }
  }
  return low->seq;
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
