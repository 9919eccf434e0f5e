// engine::replay: a recorded journal fed through the graph as fast as flow control allows (or
// at --speed times event time), with progress on a terminal and RSS kept flat.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "runtime/engine/engine_impl.hpp"
#include "runtime/store/journal_prefetch.hpp"

namespace shoal {

replay_stats engine::replay(const store& from, const replay_options& o) {
  auto& m = *impl_;
  m.replay_source = &from;
  replay_stats st;
  const std::uint64_t total = from.journal_count();
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  std::int64_t first_ts = INT64_MIN;
  const bool tty = o.progress && isatty(fileno(stderr));
  auto print = [&](bool final) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = secs > 0 ? st.records / secs : 0;
    const double eta = rate > 0 ? (total - st.records) / rate : 0;
    std::fprintf(stderr, "\rreplay: %llu/%llu records  %.0f records/s  ETA %.1fs   %s",
                 (unsigned long long)st.records, (unsigned long long)total, rate, eta,
                 final ? "\n" : "");
    std::fflush(stderr);
  };
  auto cancelled = [&] { return st.cancelled = o.cancel && o.cancel->load(); };
  // Read and decoded on another thread, a few batches ahead. Small batches: the decoded
  // records of one batch stay in cache and in memory the allocator already holds (4,096 scans
  // of 48 assets decoded at once fault in ~15 MB afresh).
  journal_prefetch journal(from, 256, 8, o.after_seq, o.through_seq);
  // Inline runners put their counters on the board every inline_report_every messages: it is
  // brought up to date when the replay ends, however it ends (a caller may read it after a
  // throw too).
  struct report_when_done {
    inline_graph* graph;
    ~report_when_done() {
      if (!graph) return;
      try {
        graph->report_all();
      } catch (const std::exception&) {  // a replay's own error is the one to see
      }
    }
  } reported{m.inline_nodes.get()};
  while (!cancelled()) {
    const auto batch = journal.next();
    if (batch.empty()) break;
    for (const auto& r : batch) {
      if (o.speed > 0) {
        if (const auto* e = std::get_if<Event>(&r)) {
          if (first_ts == INT64_MIN) first_ts = e->ts;
          const auto due = t0 + std::chrono::nanoseconds(
                                    static_cast<std::int64_t>((e->ts - first_ts) / o.speed));
          // In slices: a cancel is seen within 100 ms however far apart the events are.
          while (!cancelled() && std::chrono::steady_clock::now() < due)
            std::this_thread::sleep_until(
                std::min(due, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
        }
      }
      if (cancelled()) break;
      if (m.inline_nodes && std::holds_alternative<Control>(r))
        throw std::logic_error(
            "the journal holds a control record (a strategy changed at runtime): replay it with "
            "actors, not inline");
      m.flow->wait_below(o.max_inflight);
      m.gate->forward(r);
      ++st.records;
      if (std::holds_alternative<Event>(r))
        ++st.events;
      else if (std::holds_alternative<Watermark>(r))
        ++st.watermarks;
      else if (std::holds_alternative<Rejected>(r))
        ++st.rejected;
      else
        ++st.controls;
    }
    // Keep RSS flat however long the journal: drop the map pages touched by output writes
    // every 64k records (the prefetcher drops those of the journal it reads).
    if (st.records % 65536 < batch.size() && m.db) m.db->release_mapped_pages();
    if (tty && std::chrono::steady_clock::now() - last_print > std::chrono::milliseconds(200)) {
      print(false);
      last_print = std::chrono::steady_clock::now();
    }
  }
  m.flow->wait_idle();
  if (m.writer) m.writer->flush();
  // Counted in the replay's time: the outputs are stored once they are on the disk. A signal
  // before or during the flush cancels the replay all the same (its caller removes the dir).
  if (m.db && !m.db->syncs_each_commit() && !cancelled()) {
    m.db->sync();
    cancelled();
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (tty) print(true);
  return st;
}

}  // namespace shoal
