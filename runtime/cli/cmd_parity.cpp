#include <iostream>
#include <map>

#include "messages/json.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/store/store.hpp"

namespace shoal {
namespace {

// One node's outputs in a data dir, in bucket order: the stored Output bytes.
struct node_outputs {
  std::vector<std::pair<std::int64_t, std::string>> records;
};

// Outputs grouped by node name (the store keeps each NodeID under its first name). Grouping by
// name, not id, lets a changed graph be compared: a changed node has a new id but the same name.
std::map<std::string, node_outputs> read_outputs(const store& s) {
  std::map<std::string, node_outputs> out;
  s.for_each_output([&](std::string_view, std::int64_t bucket, std::string_view bytes) {
    decode_limits limits;
    limits.max_bytes = std::size_t{1} << 30;
    Output o = decode_output(bytes, limits);
    out[o.node].records.emplace_back(bucket, std::string(bytes));
  });
  for (auto& [name, n] : out)
    std::stable_sort(n.records.begin(), n.records.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string brief(std::string_view bytes, std::size_t width = 60) {
  if (bytes.empty()) return "(none)";
  decode_limits limits;
  limits.max_bytes = std::size_t{1} << 30;
  Output o = decode_output(bytes, limits);
  std::string v = "seq " + std::to_string(o.seq) + " " +
                  to_json(*o.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (o.id.size() >= 12) v = "id " + o.id.substr(0, 12) + " " + v;
  return v.size() > width ? v.substr(0, width) + "…" : v;
}

}  // namespace

void add_parity_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "parity", "Compare two data dirs' outputs node by node; exit 1 on any difference.");
  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  cmd->add_option("DIR_A", *a, "a data dir (e.g. a live run)")->required();
  cmd->add_option("DIR_B", *b, "another (e.g. its replay)")->required();
  cmd->callback([a, b, &result] {
    init_logging(result);
    std::map<std::string, node_outputs> A, B;
    try {
      A = read_outputs(store(*a, false));
      B = read_outputs(store(*b, false));
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    std::set<std::string> names;
    for (const auto& [n, _] : A) names.insert(n);
    for (const auto& [n, _] : B) names.insert(n);
    std::printf("%-28s %9s %9s  %-5s  %s\n", "node", "A", "B", "equal", "first divergence");
    std::size_t differing = 0;
    for (const auto& name : names) {
      const auto& ra = A[name].records;
      const auto& rb = B[name].records;
      std::size_t i = 0;
      while (i < ra.size() && i < rb.size() && ra[i] == rb[i]) ++i;
      const bool equal = i == ra.size() && i == rb.size();
      std::printf("%-28s %9zu %9zu  %-5s", name.c_str(), ra.size(), rb.size(),
                  equal ? "yes" : "NO");
      if (!equal) {
        ++differing;
        const std::int64_t bucket = i < ra.size() ? ra[i].first : rb[i].first;
        std::printf("  bucket %lld: A %s | B %s", static_cast<long long>(bucket),
                    i < ra.size() ? brief(ra[i].second).c_str() : "(none)",
                    i < rb.size() ? brief(rb[i].second).c_str() : "(none)");
      }
      std::printf("\n");
    }
    std::printf("\n%zu nodes, %zu identical, %zu differ\n", names.size(), names.size() - differing,
                differing);
    if (differing) result.exit_code = 1;
  });
}

}  // namespace shoal
