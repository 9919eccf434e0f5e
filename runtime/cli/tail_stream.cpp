#include "runtime/cli/tail_stream.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_line.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/output_seek.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

namespace {

// Reads the wanted nodes' subjects (NodeID -> the name printed) and prints them; throws
// cluster_error when the cluster does not answer.
int read_stream(const cluster_decl& cl, const std::map<std::string, std::string>& wanted,
                const stream_tail_options& o) {
  // One node: its subject; more: every node's, the others skipped.
  const std::string subject = wanted.size() == 1 ? cl.output_subject(wanted.begin()->first)
                                                 : cl.subjects + ".out." + cl.engine_id + ".>";
  // By NodeID: its outputs are printed after this seq. --since SEQ: that seq. --from TIME: a seq
  // before TIME's bucket, near the last (output_seq_before_bucket); the earlier buckets after it
  // are skipped.
  std::map<std::string, std::uint64_t> after;
  for (const auto& w : wanted) after[w.first] = o.since;
  // NodeIDs whose subjects are read whole (from their first message, or the stream's start):
  // nothing of theirs lies before where the read starts.
  std::set<std::string> whole;
  // Where each node's subject is sought to (a few direct gets); read from the earliest.
  std::uint64_t first = 1, from = 1;
  jetstream_link link(cl, "shoal tail " + cl.engine_id);
  if (o.since || o.from) {
    const std::string option =
        o.from ? "--from " + o.from_text : "--since " + std::to_string(o.since);
    const jetstream_link::stream_state st = link.stream_info(cl.stream);
    first = std::max<std::uint64_t>(st.first_seq, 1);
    from = UINT64_MAX;
    // Once one node is read from the start, so are all: the others' outputs before --from are
    // skipped by bucket, with no more searches.
    for (auto& [id, a] : after) {
      if (from <= first) break;
      const std::string subject = cl.output_subject(id);
      if (o.from) a = output_seq_before_bucket(link, cl.stream, st, subject, id, *o.from);
      bool whole_subject = true;
      from = std::min(from, output_seek(link, cl.stream, st, subject, a, true, &whole_subject));
      if (whole_subject) whole.insert(id);
    }
    if (from == UINT64_MAX) from = first;
    if (!st.allow_direct)
      std::cerr << "shoal: " << option << ": stream " << cl.stream
                << " does not allow direct gets: reading it from its start\n";
    else if (from > first)
      std::cerr << "shoal: " << option << ": reading from stream sequence " << from << "\n";
  }
  std::unique_ptr<jetstream_link::reader> reader = link.open_reader(cl.stream, subject, from);
  std::cerr << "shoal: reading " << wanted.size() << " node(s) of engine " << cl.engine_id
            << " from stream " << cl.stream << " (" << subject << ")\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(o.for_ns);
  std::map<std::string, std::uint64_t> last;  // by NodeID: printed (or passed) through this seq
  // By NodeID: seqs a gap skipped, printed if they come later (a batch the cluster answered in
  // part, sent again, stores a seq after later ones). Kept for gaps of up to 100,000.
  std::map<std::string, std::set<std::uint64_t>> missing;
  const decode_limits limits = stored_output_limits();
  std::uint64_t seen = 0, bad = 0;
  // A sought read checks that each node goes on from SEQ + 1. One that does not may have had
  // seqs stored late, before where the seek started (a partitioned process's copies sent after
  // the duplicate window): the stream is read once more from its start, skipping what was read.
  std::optional<std::uint64_t> reread_at;  // the stream sequence where the second read joins
  const bool sought = from > first;
  const std::atomic<bool>& stopped = catch_stop_signals();
  while (!stopped && (o.for_ns == 0 || std::chrono::steady_clock::now() < deadline)) {
    if (o.count && seen >= o.count) break;
    const std::optional<stored_message> m = reader->next(100);
    if (!m) continue;
    if (reread_at && m->stream_seq >= from && m->stream_seq < *reread_at) continue;  // read then
    Output out;
    try {
      out = decode_output(m->data, limits);
    } catch (const decode_error& e) {
      if (bad++ == 0)
        std::cerr << "shoal: undecodable output at stream sequence " << m->stream_seq << ": "
                  << e.what() << "\n";
      continue;
    }
    const auto w = wanted.find(out.id);
    if (w == wanted.end()) continue;
    // The node's first seq above the one sought (`last` still holds that seq, or nothing).
    const std::uint64_t sought_seq = after.at(out.id);
    const auto printed = last.find(out.id);
    if (sought && !reread_at && !whole.count(out.id) && out.seq > sought_seq + 1 &&
        (printed == last.end() || printed->second == sought_seq)) {
      std::cerr << "shoal: " << (o.from ? "--from" : "--since") << ": " << w->second
                << " goes on at seq " << out.seq
                << ": reading the stream from its start, in case the seqs before were stored "
                   "earlier in it\n";
      reread_at = m->stream_seq;  // this message comes again in the second read
      reader = link.open_reader(cl.stream, subject, first);
      continue;
    }
    std::uint64_t& l = last.try_emplace(out.id, sought_seq).first->second;
    if (out.seq <= l) {
      if (out.seq <= sought_seq) continue;
      if (missing[out.id].erase(out.seq) == 0) {
        // A seq stored twice (a publish retried after the duplicate window): printed once.
        std::cerr << "shoal: " << w->second << " seq " << out.seq
                  << " is in the stream twice; printed once\n";
        continue;
      }
      std::cerr << "shoal: " << w->second << " seq " << out.seq << " came late (stored after seq "
                << l << ")\n";
    } else {
      if (out.seq != l + 1) {
        std::cerr << "shoal: gap on " << w->second << ": seq " << out.seq << " after " << l << "\n";
        if (out.seq - l <= 100'000)
          for (std::uint64_t s = l + 1; s < out.seq; ++s) missing[out.id].insert(s);
      }
      l = out.seq;
    }
    if (o.from && out.bucket < *o.from) continue;  // after the seq sought, before --from's bucket
    ++seen;
    print_output_line(std::cout, out, o.json, o.width);
  }
  if (stopped) return 128 + stop_signal();
  if (seen == 0 || (o.count && seen < o.count)) {
    std::cerr << "shoal: ";
    if (seen == 0)
      std::cerr << "no output";
    else
      std::cerr << "only " << seen << " of " << o.count << " outputs";
    std::cerr << " in stream " << cl.stream << " within " << o.for_text
              << " (does an engine run with [cluster] stream_outputs = true?)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int tail_from_stream(const config& cfg, const plan& p, const stream_tail_options& o) {
  const cluster_decl& cl = cfg.cluster;
  auto named = [](const plan_node& n, const std::string& t) {
    return std::find(n.names.begin(), n.names.end(), t) != n.names.end();
  };
  // The NodeIDs followed, each under the first name asked for (or its first): a node declared
  // under several names has one subject, and two TOPICs naming it follow it once.
  std::map<std::string, std::string> wanted;
  for (const auto& n : p.nodes) {
    if (n.is_stream()) continue;
    if (o.topics.empty()) {
      wanted.emplace(n.id, n.names.empty() ? n.id : n.names.front());
      continue;
    }
    for (const auto& t : o.topics)
      if (named(n, t)) wanted.emplace(n.id, t);
  }
  for (const auto& t : o.topics) {
    auto is = [&](bool stream) {
      return std::any_of(p.nodes.begin(), p.nodes.end(), [&](const plan_node& n) {
        return n.is_stream() == stream && named(n, t);
      });
    };
    if (is(false)) continue;
    std::cerr << "shoal: --from-stream: " << t << " is "
              << (is(true) ? "a stream: its events are the journal (`shoal replay --cluster`)"
                           : "no node of " + o.config_path + " (see `shoal plan`)")
              << "\n";
    return 2;
  }
  if (!cl.stream_outputs)
    std::cerr << "shoal: note: " << o.config_path
              << " has no [cluster] stream_outputs = true: the stream holds only what an engine "
                 "running with it put there\n";
  try {
    return read_stream(cl, wanted, o);
  } catch (const cluster_error& e) {
    // Connecting, seeking, opening a reader, reading: the cluster's word, then out.
    std::cerr << "shoal: --from-stream: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace shoal
