#include "runtime/cluster/output_follower.hpp"

#include <algorithm>
#include <chrono>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/cluster/output_seek.hpp"

namespace shoal {

output_follower::output_follower(jetstream_link& link, const cluster_decl& c, std::string node_id,
                                 std::uint64_t after, std::size_t max_held)
    : link_(link),
      stream_(c.stream),
      subject_(c.output_subject(node_id)),
      node_id_(std::move(node_id)),
      after_(after),
      last_(after),
      max_held_(max_held) {
  const jetstream_link::stream_state st = link_.stream_info(stream_);
  first_ = std::max<std::uint64_t>(st.first_seq, 1);
  from_ = first_;
  if (after_ != 0) {
    bool whole = true;
    from_ = output_seek(link_, stream_, st, subject_, after_, true, &whole);
    sought_ = !whole;
  }
  reader_ = link_.open_reader(stream_, subject_, from_);
}

output_follower::~output_follower() = default;

std::optional<Output> output_follower::next(std::int64_t timeout_ms) {
  // Capped at a day: a caller's "for ever" must not overflow the clock.
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, 86'400'000));
  for (bool read = false;; read = true) {
    if (const auto h = held_.find(last_ + 1); h != held_.end()) {
      Output out = std::move(h->second);
      held_.erase(h);
      last_ = out.seq;
      ++stats_.delivered;
      return out;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    // Past the deadline it returns, also while messages keep coming (a busy subject, a read
    // again from the start): the caller gets its turn. One read at least, of a millisecond.
    if (read && left <= 0) return std::nullopt;
    const std::optional<stored_message> m = reader_->next(std::max<std::int64_t>(left, 1));
    if (!m) {
      // Everything stored is read. Later seqs wait for one, or the subject holds more messages
      // than the seqs handed on: a seq may lie before where the seek began (see read_again).
      // The count is asked once, at the first pause: one request, not a read of the stream.
      if (!held_.empty()) {
        read_again(seen_ + 1);
      } else if (!counted_ && sought_ && !reread_) {
        const bool more = link_.subject_count(stream_, subject_, false) > last_;
        counted_ = true;  // asked again at the next pause when the cluster did not answer
        if (more) read_again(seen_ + 1);
      }
      return std::nullopt;
    }
    seen_ = m->stream_seq;
    take(*m);
  }
}

void output_follower::read_again(std::uint64_t read_through) {
  if (!sought_ || reread_) return;  // read the whole subject already
  // Opened first: when the cluster does not answer, the read goes on as it was and a later
  // trigger tries again.
  reader_ = link_.open_reader(stream_, subject_, first_);
  reread_ = true;
  reread_at_ = read_through;
  ++stats_.rereads;
}

void output_follower::take(const stored_message& m) {
  if (reread_ && m.stream_seq >= from_ && m.stream_seq < reread_at_) return;  // read already
  Output out;
  try {
    out = decode_output(m.data, stored_output_limits());
  } catch (const decode_error&) {
    ++stats_.undecodable;
    return;
  }
  if (out.id != node_id_) {
    ++stats_.foreign;
    return;
  }
  if (out.seq <= last_ || held_.count(out.seq)) {
    ++stats_.duplicates;
    return;
  }
  // Read from a seek: the subject goes on at after + 1 or below from there, unless seqs above
  // `after` were stored before it (output_seek's rarer cases). The first output above `after`
  // tells: when it is not after + 1, the stream is read once more from its start, and this
  // message comes again in that read.
  if (stats_.delivered == 0 && held_.empty() && out.seq > after_ + 1 && sought_ && !reread_) {
    read_again(m.stream_seq);
    return;
  }
  const std::uint64_t seq = out.seq;
  held_.emplace(seq, std::move(out));
  // Later seqs piling up while new ones keep coming (no pause for next() to read again in).
  if (held_.size() == std::min(reread_held, max_held_)) read_again(m.stream_seq + 1);
  if (held_.size() > max_held_)
    throw output_gap("node " + node_id_ + "'s subject " + subject_ + " in stream " + stream_ +
                         " lacks seq " + std::to_string(last_ + 1) + ": " +
                         std::to_string(held_.size()) + " later seqs came after seq " +
                         std::to_string(last_) + " without it",
                     last_ + 1);
}

}  // namespace shoal
