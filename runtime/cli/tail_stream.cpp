#include "runtime/cli/tail_stream.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

#include "messages/decode_error.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_line.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

int tail_from_stream(const config& cfg, const plan& p, const stream_tail_options& o) {
  const cluster_decl& cl = cfg.cluster;
  // The NodeIDs followed, by the names asked for (a node declared under several names has one
  // subject).
  std::map<std::string, std::string> wanted;  // NodeID → the name asked for (or its first)
  for (const auto& n : p.nodes) {
    if (n.is_stream()) continue;
    if (o.topics.empty()) {
      wanted.emplace(n.id, n.names.empty() ? n.id : n.names.front());
      continue;
    }
    for (const auto& t : o.topics)
      if (std::find(n.names.begin(), n.names.end(), t) != n.names.end()) wanted.emplace(n.id, t);
  }
  for (const auto& t : o.topics) {
    const bool found =
        std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) { return w.second == t; });
    if (found) continue;
    const bool stream = std::any_of(p.nodes.begin(), p.nodes.end(), [&](const plan_node& n) {
      return n.is_stream() && std::find(n.names.begin(), n.names.end(), t) != n.names.end();
    });
    std::cerr << "shoal: --from-stream: " << t << " is "
              << (stream ? "a stream: its events are the journal (`shoal replay --cluster`)"
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
    reader = link->open_reader(cl.stream, subject, 1);
  } catch (const cluster_error& e) {
    std::cerr << "shoal: --from-stream: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "shoal: reading " << wanted.size() << " node(s) of engine " << cl.engine_id
            << " from stream " << cl.stream << " (" << subject << ")\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(o.for_ns);
  std::map<std::string, std::uint64_t> last;  // by NodeID: printed (or passed) through this seq
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
      out = decode_output(m->data, decode_limits{std::size_t{1} << 30});
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
      // At or before --since, or a seq stored twice (a publish retried after the duplicate
      // window): printed once.
      if (out.seq > o.since)
        std::cerr << "shoal: " << w->second << " seq " << out.seq
                  << " is in the stream twice; printed once\n";
      continue;
    }
    if (out.seq != l + 1)
      std::cerr << "shoal: gap on " << w->second << ": seq " << out.seq << " after " << l << "\n";
    l = out.seq;
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
