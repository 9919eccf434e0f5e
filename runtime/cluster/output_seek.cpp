#include "runtime/cluster/output_seek.hpp"

#include <algorithm>
#include <optional>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/output_exporter.hpp"

namespace shoal {

std::uint64_t output_seek(jetstream_link& link, const std::string& stream,
                          const std::string& subject, std::uint64_t after) {
  constexpr std::uint64_t margin = 2 * output_exporter::batch_outputs;
  if (after <= margin) return 1;
  const std::uint64_t target = after - margin;
  const jetstream_link::stream_state st = link.stream_info(stream);
  if (!st.allow_direct) return 1;
  decode_limits limits = stored_data_limits();  // an engine's own outputs, NaN included
  limits.allow_non_finite = true;
  // The seq of the subject's first message at `from` or after (none: past its last, or a
  // follower's copy that lacks it yet, either way nothing to skip), and where it is.
  struct found {
    std::uint64_t stream_seq = 0, seq = 0;
  };
  auto probe = [&](std::uint64_t from) -> std::optional<found> {
    const auto m = link.next_message(stream, subject, from);
    if (!m) return std::nullopt;
    try {
      return found{m->stream_seq, decode_output(m->data, limits).seq};
    } catch (const decode_error&) {
      return found{m->stream_seq, UINT64_MAX};  // not an output: read from before it
    }
  };
  const std::uint64_t start = std::max<std::uint64_t>(st.first_seq, 1);
  const auto first = probe(start);
  if (!first || first->seq > target) return start;
  // lo: its next message holds a seq at or below target; hi: its next one does not, or none.
  std::uint64_t lo = first->stream_seq, hi = st.last_seq + 1;
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    const auto m = probe(mid);
    if (m && m->seq <= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace shoal
