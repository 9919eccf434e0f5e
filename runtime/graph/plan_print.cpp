// A plan for people: the `shoal plan` table and the Graphviz DOT of the DAG.
#include <cstdio>
#include <sstream>

#include "actors/core/duration.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {
using detail::join;

std::string plan_to_text(const plan& p) {
  std::ostringstream o;
  o << "pass  node id       kind          interval  period  warm-up  names\n";
  for (const auto& n : p.nodes) {
    char line[160];
    std::snprintf(line, sizeof line, "%-5zu %-12.12s  %-12s  %-8s  %6zu  %7zu  ", n.pass,
                  n.id.c_str(), n.kind.c_str(), format_duration_ns(n.interval_ns).c_str(), n.period,
                  n.warmup);
    o << line << join(n.names, ", ");
    if (n.names.size() > 1) o << "  (shared by " << n.names.size() << ")";
    o << "\n";
  }
  o << "\n"
    << p.stream_count() << " source streams; " << p.distinct << " distinct nodes from "
    << p.declared << " declared; reuse ratio " << p.reused() << "/" << p.declared;
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, " = %.2f", p.reuse_ratio());
  o << ratio << "\ngraph hash " << p.graph_hash << "\n";
  return o.str();
}

std::string plan_to_ids(const plan& p) {
  std::ostringstream o;
  for (const auto& n : p.nodes)
    if (!n.is_stream()) o << n.id << "  " << join(n.names, ", ") << "\n";
  return o.str();
}

std::string plan_to_dot(const plan& p) {
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  auto quote = [&](const std::string& s) { return "\"" + escape(s) + "\""; };
  std::ostringstream o;
  o << "digraph shoal {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto& n : p.nodes) {
    // One line per name, then kind and id: the parts are escaped, the DOT line breaks (\n) not.
    std::string label;
    for (const auto& name : n.names) label += escape(name) + "\\n";
    label += escape(n.kind + "  " + n.id.substr(0, 12));
    o << "  " << quote("n" + n.id.substr(0, 16)) << " [label=\"" << label << "\""
      << (n.is_stream() ? ", shape=box, style=filled, fillcolor=\"#dde8f5\"" : ", shape=ellipse")
      << (n.names.size() > 1 ? ", peripheries=2" : "") << "];\n";
  }
  for (const auto& n : p.nodes)
    for (const auto& in : n.inputs)
      o << "  " << quote("n" + p.nodes[in.upstream].id.substr(0, 16)) << " -> "
        << quote("n" + n.id.substr(0, 16)) << " [label=" << quote(in.port) << "];\n";
  o << "}\n";
  return o.str();
}

}  // namespace shoal
