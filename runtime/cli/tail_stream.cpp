#include "runtime/cli/tail_stream.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
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
  std::unique_ptr<jetstream_link> link;
  std::unique_ptr<jetstream_link::reader> reader;
  // One node: its subject; more: every node's, the others skipped.
  const std::string subject = wanted.size() == 1 ? cl.output_subject(wanted.begin()->first)
                                                 : cl.subjects + ".out." + cl.engine_id + ".>";
  try {
    link = std::make_unique<jetstream_link>(cl, "shoal tail " + cl.engine_id);
    // --since: each node's subject sought (a few direct gets), read from the earliest of them.
    std::uint64_t from = UINT64_MAX;
    for (const auto& w : wanted)
      from = std::min(
          from, o.since ? output_seek(*link, cl.stream, cl.output_subject(w.first), o.since) : 1);
    reader = link->open_reader(cl.stream, subject, from == UINT64_MAX ? 1 : from);
    if (from > 1 && from != UINT64_MAX)
      std::cerr << "shoal: --since " << o.since << ": reading from stream sequence " << from
                << "\n";
  } catch (const cluster_error& e) {
    std::cerr << "shoal: --from-stream: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "shoal: reading " << wanted.size() << " node(s) of engine " << cl.engine_id
            << " from stream " << cl.stream << " (" << subject << ")\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(o.for_ns);
  std::map<std::string, std::uint64_t> last;  // by NodeID: printed (or passed) through this seq
  // By NodeID: seqs a gap skipped, printed if they come later (a batch the cluster answered in
  // part, sent again, stores a seq after later ones). Kept for gaps of up to 100,000.
  std::map<std::string, std::set<std::uint64_t>> missing;
  decode_limits limits = stored_data_limits();  // an engine's own outputs, NaN included
  limits.allow_non_finite = true;
  std::uint64_t seen = 0, bad = 0;
  const std::atomic<bool>& stopped = catch_stop_signals();
  while (!stopped && (o.for_ns == 0 || std::chrono::steady_clock::now() < deadline)) {
    if (o.count && seen >= o.count) break;
    std::optional<stored_message> m;
    try {
      m = reader->next(100);
    } catch (const cluster_error& e) {
      std::cerr << "shoal: --from-stream: " << e.what() << "\n";
      return 1;
    }
    if (!m) continue;
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
    std::uint64_t& l = last.try_emplace(out.id, o.since).first->second;
    if (out.seq <= l) {
      if (out.seq <= o.since) continue;
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

}  // namespace shoal
