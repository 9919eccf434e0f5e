#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
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

// A node's values by bucket (the Output's value bytes), for comparing different nodes.
std::map<std::int64_t, std::string> values_of(const node_outputs& n) {
  std::map<std::int64_t, std::string> out;
  decode_limits limits;
  limits.max_bytes = std::size_t{1} << 30;
  for (const auto& [bucket, bytes] : n.records)
    out[bucket] = to_msgpack(*decode_output(bytes, limits).value);
  return out;
}

// Compares A's node `a` with B's node `b` value by value over the buckets both have.
bool compare_pair(const std::string& a, const std::string& b, const node_outputs& na,
                  const node_outputs& nb) {
  const auto va = values_of(na), vb = values_of(nb);
  std::size_t common = 0, equal = 0, run = 0, best = 0;
  std::optional<std::int64_t> first_diff, run_start, best_start;
  for (const auto& [bucket, bytes] : va) {
    auto it = vb.find(bucket);
    if (it == vb.end()) continue;
    ++common;
    if (it->second == bytes) {
      ++equal;
      if (run++ == 0) run_start = bucket;
      if (run > best) {
        best = run;
        best_start = run_start;
      }
    } else {
      run = 0;
      if (!first_diff) first_diff = bucket;
    }
  }
  std::printf("%s (A) vs %s (B): %zu buckets in A, %zu in B, %zu in both, %zu equal, %zu differ\n",
              a.c_str(), b.c_str(), va.size(), vb.size(), common, equal, common - equal);
  std::printf("  longest run of identical buckets: %zu", best);
  if (best_start) std::printf(" (from bucket %lld)", static_cast<long long>(*best_start));
  std::printf("\n");
  if (first_diff)
    std::printf("  first divergence at bucket %lld:\n    A %s\n    B %s\n",
                static_cast<long long>(*first_diff),
                va.at(*first_diff).size() > 0
                    ? to_json(from_msgpack(va.at(*first_diff))).dump().substr(0, 200).c_str()
                    : "",
                to_json(from_msgpack(vb.at(*first_diff))).dump().substr(0, 200).c_str());
  return common > 0 && common == equal;
}

}  // namespace

void add_parity_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "parity", "Compare two data dirs' outputs node by node; exit 1 on any difference.");
  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  cmd->add_option("DIR_A", *a, "a data dir (e.g. a live run)")->required();
  cmd->add_option("DIR_B", *b, "another (e.g. its replay)")->required();
  auto pairs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--pair", *pairs,
                  "A_NODE=B_NODE: compare A's node with B's node value by value over the buckets "
                  "both have (e.g. sizing=sizing_mirror); replaces the per-node table");
  cmd->callback([a, b, pairs, &result] {
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
    if (!pairs->empty()) {
      bool all = true;
      for (const auto& pr : *pairs) {
        const auto eq = pr.find('=');
        if (eq == std::string::npos) {
          std::cerr << "shoal: --pair expects A_NODE=B_NODE, got " << pr << "\n";
          result.exit_code = 2;
          return;
        }
        all &= compare_pair(pr.substr(0, eq), pr.substr(eq + 1), A[pr.substr(0, eq)],
                            B[pr.substr(eq + 1)]);
      }
      if (!all) result.exit_code = 1;
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
