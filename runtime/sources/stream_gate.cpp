#include "runtime/sources/stream_gate.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "messages/decode_error.hpp"
#include "messages/payloads.hpp"
#include "messages/records.hpp"
#include "runtime/engine/ingest.hpp"

namespace shoal {
namespace {

std::vector<source_progress::stream> progress_streams(const source_decl& decl, const ingest& in,
                                                      bool given_time) {
  std::vector<source_progress::stream> out;
  for (const auto& st : decl.streams) {
    const std::string name = decl.name + "." + st.name;
    // An "auto" stream fixed its mode with its first accepted event, before a restart perhaps.
    const auto journaled = parse_stream_time(in.journaled_time_mode(name));
    out.push_back({name, journaled ? *journaled : given_time ? stream_time::payload : st.time});
  }
  return out;
}

source_progress::options progress_options(const source_decl& decl) {
  source_progress::options po;
  po.interval_ns = decl.interval_ns;
  po.idle_timeout = std::chrono::nanoseconds(decl.idle_timeout_ns);
  po.allowed_lateness_ns = decl.allowed_lateness_ns;
  po.max_future_ns = decl.max_future_ns;
  return po;
}

}  // namespace

void validate_stream_payload(const std::string& schema, const Value& payload) {
  if (schema != "books") return validate_payload(schema, payload);
  if (!payload.is_map())
    throw decode_error(error_kind::wrong_type, "payload", "expected a map of asset → book");
  for (const auto& [asset, book] : payload.as_map()) {
    try {
      validate_ob(book);
    } catch (const decode_error& e) {
      // Re-root the path under the asset: "A003.bid_qty[2]".
      std::string what = e.what();
      if (!e.field().empty()) what = what.substr(e.field().size() + 2);
      throw decode_error(e.kind(), asset + (e.field().empty() ? "" : "." + e.field()), what);
    }
  }
}

stream_gate::stream_gate(const source_decl& decl, ingest& in, clock& clk, bool given_time,
                         bool log_rejections)
    : source_(decl.name),
      streams_(decl.streams),
      in_(in),
      clock_(clk),
      progress_(progress_streams(decl, in, given_time), progress_options(decl), clk.now()),
      log_rejections_(log_rejections) {
  for (const auto& st : streams_) {
    names_.push_back(source_ + "." + st.name);
    scans_.emplace_back().numbered = st.schema == "scan";
  }
}

void stream_gate::payload(std::size_t i, Value payload, std::int64_t received_ns) {
  std::optional<std::int64_t> number;
  if (scans_[i].numbered && payload.is_map()) {
    if (const Value* n = payload.find("scan_number"); n && n->is_int()) number = n->as_int();
  }
  try {
    const auto t = progress_.event_time(i, payload, clock_.wall_ns());
    accept(i, t, std::move(payload), received_ns);
  } catch (const decode_error&) {
    if (number) scan_rejected(i, *number);
    throw;
  }
  if (number) scan_accepted(i, *number);
}

void stream_gate::given(std::size_t i, Value payload, std::int64_t ts, std::int64_t received_ns,
                        std::optional<std::uint64_t> index) {
  const auto t = progress_.given_time(i, ts, clock_.wall_ns());
  accept(i, t, std::move(payload), received_ns, index);
}

void stream_gate::accept(std::size_t i, source_progress::timed t, Value payload,
                         std::int64_t received_ns, std::optional<std::uint64_t> index) {
  validate_stream_payload(streams_[i].schema, payload);
  if (progress_.accept(i, t, clock_.now()))
    in_.control(
        Control{"time_mode", names_[i], value_map{{"mode", Value(to_string(progress_.mode(i)))}}});
  in_.event(names_[i], t.ts, make_value(std::move(payload)), index, received_ns);
}

void stream_gate::scan_rejected(std::size_t i, std::int64_t number) {
  // It arrived: not one of the scans missing before the next one accepted. Rejected frames
  // never move the last number (a bad frame's number says nothing of the feed's count). Past
  // 4096 rejected numbers in a row, further ones are no longer remembered (and would count as
  // gaps if the feed's numbers then jumped over them).
  auto& s = scans_[i];
  if ((!s.last || number > *s.last) && s.rejected_since.size() < 4096)
    s.rejected_since.insert(number);
}

void stream_gate::scan_accepted(std::size_t i, std::int64_t number) {
  auto& s = scans_[i];
  if (s.last && number > *s.last) {
    // In unsigned arithmetic: the distance between any two int64 values fits, never overflows.
    std::uint64_t missed =
        static_cast<std::uint64_t>(number) - static_cast<std::uint64_t>(*s.last) - 1;
    for (auto it = s.rejected_since.upper_bound(*s.last);
         it != s.rejected_since.end() && *it < number; ++it)
      --missed;
    if (missed > max_counted_gap) {
      if (log_rejections_ && !std::exchange(s.renumbering_logged, true))
        spdlog::warn("source {}: {}: scan_number {} after {}: taken as the feed numbering anew",
                     source_, streams_[i].name, number, *s.last);
    } else if (missed > 0) {
      if (log_rejections_ && !std::exchange(s.gap_logged, true))
        spdlog::warn(
            "source {}: gap on {}: scan_number {} after {} ({} scans never arrived: did the feed "
            "drop them, e.g. at its ZeroMQ high-water mark?); counted in the stream's gaps, "
            "further gaps not logged",
            source_, streams_[i].name, number, *s.last, missed);
      in_.count_gap(names_[i], missed);
    }
  }
  // A number at or below the last one: the feed started counting again (a restart).
  s.last = number;
  s.rejected_since.clear();
}

void stream_gate::reject(std::size_t i, std::string raw, const std::string& kind,
                         const std::string& what) {
  if (log_rejections_ && logged_kinds_.insert(kind).second)
    spdlog::warn(
        "source {}: rejected input ({}): {} (further {} rejections are counted, not logged)",
        source_, kind, what, kind);
  const std::int64_t last = progress_.last_ts(i) == INT64_MIN ? 0 : progress_.last_ts(i);
  in_.rejected(names_[i], last, std::move(raw), kind + ": " + what);
}

void stream_gate::idle_watermarks() {
  for (const auto& wm : progress_.due(clock_.now(), clock_.wall_ns()))
    in_.idle_watermark(names_[wm.stream], wm.ts);
}

}  // namespace shoal
