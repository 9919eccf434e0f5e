#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/store/output_digest.hpp"
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
    Output o = decode_output(bytes, stored_data_limits());
    out[o.node].records.emplace_back(bucket, std::string(bytes));
  });
  for (auto& [name, n] : out)
    std::stable_sort(n.records.begin(), n.records.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string brief(std::string_view bytes, std::size_t width = 60) {
  if (bytes.empty()) return "(none)";
  Output o = decode_output(bytes, stored_data_limits());
  std::string v = "seq " + std::to_string(o.seq) + " " +
                  to_json(*o.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (o.id.size() >= 12) v = "id " + o.id.substr(0, 12) + " " + v;
  return v.size() > width ? v.substr(0, width) + "…" : v;
}

// A node's values by bucket (the Output's value bytes), for comparing different nodes.
std::map<std::int64_t, std::string> values_of(const node_outputs& n) {
  std::map<std::int64_t, std::string> out;
  for (const auto& [bucket, bytes] : n.records)
    out[bucket] = to_msgpack(*decode_output(bytes, stored_data_limits()).value);
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

// Where two nodes' outputs first differ, by bucket: the first bucket where both have an output
// and the bytes differ, or where only one of them has an output. False when identical; ia and ib
// are then the records of A and B at or after that bucket.
bool first_divergence(const node_outputs& a, const node_outputs& b, std::int64_t& bucket,
                      std::size_t& ia, std::size_t& ib) {
  const auto& ra = a.records;
  const auto& rb = b.records;
  ia = ib = 0;
  while (ia < ra.size() && ib < rb.size()) {
    if (ra[ia].first != rb[ib].first) {
      bucket = std::min(ra[ia].first, rb[ib].first);
      return true;
    }
    if (ra[ia].second != rb[ib].second) {
      bucket = ra[ia].first;
      return true;
    }
    ++ia;
    ++ib;
  }
  if (ia < ra.size() || ib < rb.size()) {
    bucket = ia < ra.size() ? ra[ia].first : rb[ib].first;
    return true;
  }
  return false;
}

// The nodes of either side, in name order, after printing the table's header.
template <class Map>
std::set<std::string> table_header(const Map& A, const Map& B) {
  std::set<std::string> names;
  for (const auto& [n, _] : A) names.insert(n);
  for (const auto& [n, _] : B) names.insert(n);
  std::printf("%-28s %9s %9s  %-5s  %s\n", "node", "A", "B", "equal", "first divergence");
  return names;
}

// The per-node table of two data dirs, bucket-aligned. Returns the number of differing nodes.
std::size_t compare_dirs(std::map<std::string, node_outputs>& A,
                         std::map<std::string, node_outputs>& B) {
  const std::set<std::string> names = table_header(A, B);
  std::size_t differing = 0;
  std::optional<std::pair<std::int64_t, std::string>> first;
  for (const auto& name : names) {
    const auto& na = A[name];
    const auto& nb = B[name];
    std::int64_t bucket = 0;
    std::size_t ia = 0, ib = 0;
    const bool differs = first_divergence(na, nb, bucket, ia, ib);
    std::printf("%-28s %9zu %9zu  %-5s", name.c_str(), na.records.size(), nb.records.size(),
                differs ? "NO" : "yes");
    if (differs) {
      ++differing;
      if (!first || bucket < first->first) first = {bucket, name};
      auto at = [&](const node_outputs& n, std::size_t i) {
        return i < n.records.size() && n.records[i].first == bucket ? brief(n.records[i].second)
                                                                    : std::string("(none)");
      };
      std::printf("  bucket %lld: A %s | B %s", static_cast<long long>(bucket), at(na, ia).c_str(),
                  at(nb, ib).c_str());
    }
    std::printf("\n");
  }
  std::printf("\n%zu nodes, %zu identical, %zu differ\n", names.size(), names.size() - differing,
              differing);
  if (first)
    std::printf("first divergence: node %s at bucket %lld\n", first->second.c_str(),
                static_cast<long long>(first->first));
  return differing;
}

// Two digests of one node: where they first differ, from their marks (every 1,024 outputs).
std::string digest_divergence(const node_digest& a, const node_digest& b, std::int64_t& from) {
  std::size_t k = 0;
  while (k < a.marks.size() && k < b.marks.size() && a.marks[k] == b.marks[k]) ++k;
  const std::uint64_t after = k == 0 ? 0 : a.marks[k - 1].count;
  from = k == 0 ? INT64_MIN : a.marks[k - 1].bucket;
  std::string where = "after output " + std::to_string(after);
  if (k > 0) where += " (bucket " + std::to_string(a.marks[k - 1].bucket) + ")";
  if (k < a.marks.size() && k < b.marks.size())
    where += ", by output " + std::to_string(a.marks[k].count) + " (A bucket " +
             std::to_string(a.marks[k].bucket) + ", B bucket " + std::to_string(b.marks[k].bucket) +
             ")";
  return where;
}

std::size_t compare_digests(const digest_set& A, const digest_set& B) {
  const std::set<std::string> names = table_header(A, B);
  std::size_t differing = 0;
  std::optional<std::pair<std::int64_t, std::string>> first;
  const node_digest none;
  for (const auto& name : names) {
    auto ia = A.find(name), ib = B.find(name);
    const node_digest& a = ia == A.end() ? none : ia->second;
    const node_digest& b = ib == B.end() ? none : ib->second;
    const bool equal = a.outputs == b.outputs && a.digest == b.digest;
    std::printf("%-28s %9llu %9llu  %-5s", name.c_str(), (unsigned long long)a.outputs,
                (unsigned long long)b.outputs, equal ? "yes" : "NO");
    if (!equal) {
      ++differing;
      std::int64_t from = INT64_MIN;
      std::printf("  %s", digest_divergence(a, b, from).c_str());
      if (!first || from < first->first) first = {from, name};
    }
    std::printf("\n");
  }
  std::printf("\n%zu nodes, %zu identical, %zu differ\n", names.size(), names.size() - differing,
              differing);
  if (first)
    std::printf("first divergence: node %s%s\n", first->second.c_str(),
                first->first == INT64_MIN
                    ? " (from its first output)"
                    : (" after bucket " + std::to_string(first->first)).c_str());
  return differing;
}

// A side of `parity`: a data dir, or a digest file written by `replay --digest`.
digest_set digest_side(const std::string& path) {
  if (std::filesystem::is_directory(path)) return digest_of_store(store(path, false));
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot read (neither a data dir nor a digest file)");
  try {
    return digest_set_from_json(nlohmann::json::parse(f));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": neither a data dir nor a digest file (" + e.what() + ")");
  }
}

}  // namespace

void add_parity_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "parity",
      "Compare two runs node by node, each a data dir or a digest file (`replay --digest`); the "
      "first divergence is the first bucket where they differ; exit 1 on any difference.");
  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  cmd->add_option("DIR_A", *a, "a data dir (e.g. a live run) or a digest file")->required();
  cmd->add_option("DIR_B", *b, "another (e.g. its replay, or its digest file)")->required();
  auto pairs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--pair", *pairs,
                  "A_NODE=B_NODE: compare A's node with B's node value by value over the buckets "
                  "both have (e.g. sizing=sizing_mirror); replaces the per-node table");
  cmd->callback([a, b, pairs, &result] {
    init_logging(result);
    const bool dirs = std::filesystem::is_directory(*a) && std::filesystem::is_directory(*b);
    if (!dirs) {
      if (!pairs->empty()) {
        std::cerr << "shoal: --pair compares values: give two data dirs, not digest files\n";
        result.exit_code = 2;
        return;
      }
      digest_set A, B;
      try {
        A = digest_side(*a);
        B = digest_side(*b);
      } catch (const std::exception& e) {
        std::cerr << "shoal: " << e.what() << "\n";
        result.exit_code = 2;
        return;
      }
      if (compare_digests(A, B)) result.exit_code = 1;
      return;
    }
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
    if (compare_dirs(A, B)) result.exit_code = 1;
  });
}

}  // namespace shoal
