// shoal explain: why a data dir holds what it holds (provenance issue). Read-only: no lock.
//
//   explain DIR NODE --bucket T   the stored output, then per input port the upstream outputs
//                                 its window read (period buckets back), recursively, down to
//                                 the journal events each source-stream bucket was made of
//   explain DIR --journal SEQ     one journal record as ingested; rejected input with its reason
//                                 and first bytes (hex and text)
//
// The walk and the recomputation are runtime/provenance/explain.hpp's (the admin `explain` of a
// running engine answers from there too).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "actors/core/kind_registry.hpp"
#include "messages/journal_record.hpp"
#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/journal_json.hpp"
#include "runtime/cli/recorded_config.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/provenance/explain.hpp"
#include "runtime/provenance/scratch_dir.hpp"
#include "runtime/store/store.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

constexpr std::size_t head_bytes = 64;

std::string hex_head(const std::string& raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min(raw.size(), head_bytes); ++i) {
    const auto b = static_cast<unsigned char>(raw[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The classic dump: offset, 16 bytes in hex, the same as text (dots for what does not print).
void print_dump(const std::string& raw) {
  const std::size_t n = std::min(raw.size(), head_bytes);
  for (std::size_t row = 0; row < n; row += 16) {
    std::printf("    %04zx ", row);
    for (std::size_t i = row; i < row + 16; ++i) {
      if (i < n) {
        std::printf(" %02x", static_cast<unsigned char>(raw[i]));
      } else {
        std::printf("   ");
      }
    }
    std::printf("  |");
    for (std::size_t i = row; i < std::min(n, row + 16); ++i) {
      const auto c = static_cast<unsigned char>(raw[i]);
      std::putchar(std::isprint(c) ? c : '.');
    }
    std::printf("|\n");
  }
}

int explain_journal(const store& s, std::uint64_t seq, bool json) {
  const std::optional<std::string> bytes = s.journal_bytes(seq);
  if (!bytes) {
    std::cerr << "shoal: " << s.dir() << ": no journal record " << seq << " (the journal holds 1.."
              << s.journal_last() << ")\n";
    return 2;
  }
  nlohmann::json j;
  journal_record r;
  try {
    r = decode_journal_record(*bytes);
    j = journal_json(r);
  } catch (const std::exception& e) {
    std::cerr << "shoal: journal record " << seq << " does not decode: " << e.what() << "\n";
    return 1;
  }
  j["ingest"] = seq;
  const auto* rejected = std::get_if<Rejected>(&r);
  if (rejected) j["raw_head_hex"] = hex_head(rejected->raw);
  if (json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  const char* kind = std::holds_alternative<Event>(r)       ? "event"
                     : std::holds_alternative<Watermark>(r) ? "watermark"
                     : std::holds_alternative<Control>(r)   ? "control (a runtime change)"
                                                            : "rejected input";
  std::printf("journal record %llu of %llu: %s\n", static_cast<unsigned long long>(seq),
              static_cast<unsigned long long>(s.journal_last()), kind);
  std::printf("  stream   %s\n", stream_of(r).c_str());
  if (j.contains("ts")) {
    const auto ts = j["ts"].get<std::int64_t>();
    std::printf("  ts       %s (%lld)\n", utc_text(ts).c_str(), static_cast<long long>(ts));
  }
  if (const auto* e = std::get_if<Event>(&r)) {
    std::printf("  seq      %llu (of its stream)\n", static_cast<unsigned long long>(e->seq));
    std::printf(
        "  payload  %s\n",
        j["payload"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (const auto* c = std::get_if<Control>(&r)) {
    std::printf("  change   %s %s\n", c->kind.c_str(), j["args"].dump().c_str());
  } else if (const auto* w = std::get_if<Watermark>(&r)) {
    std::printf("  closes   everything at or before ts on this stream%s\n",
                w->idle ? " (an idle watermark: the stream was quiet)" : "");
  } else if (rejected) {
    std::printf("  reason   %s\n", rejected->reason.c_str());
    const std::size_t size =
        rejected->raw_sha256.empty() ? rejected->raw.size() : rejected->raw_bytes;
    std::printf("  frame    %zu bytes", size);
    if (!rejected->raw_sha256.empty())
      std::printf(" (%zu kept, sha256 %s)", rejected->raw.size(), rejected->raw_sha256.c_str());
    std::printf("; the first %zu:\n", std::min(rejected->raw.size(), head_bytes));
    print_dump(rejected->raw);
  }
  return 0;
}

// ---- explain NODE --bucket T ------------------------------------------------------------------

// A record's place in event time: events' and watermarks' own. Rejected input carries only its
// stream's last good time (0 before any), and runtime changes none: they do not count.
std::string short_value(const nlohmann::json& v) {
  std::string t = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return t.size() > 100 ? t.substr(0, 97) + "..." : t;
}

void print_node(const nlohmann::json& j, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::printf("%s%s @ %s", pad.c_str(), j["node"].get<std::string>().c_str(),
              utc_text(j["bucket"].get<std::int64_t>()).c_str());
  if (j["stored"].get<bool>()) {
    std::printf("  seq %llu  %s\n", static_cast<unsigned long long>(j["seq"].get<std::uint64_t>()),
                short_value(j["value"]).c_str());
  } else {
    std::printf("  (no stored output)\n");
  }
  if (j.contains("journal")) {
    for (const auto& r : j["journal"]) {
      std::printf("%s  journal %llu: %s seq %llu at %s\n", pad.c_str(),
                  static_cast<unsigned long long>(r["ingest"].get<std::uint64_t>()),
                  r["stream"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(r["seq"].get<std::uint64_t>()),
                  utc_text(r["ts"].get<std::int64_t>()).c_str());
    }
  }
  if (j.contains("inputs")) {
    for (const auto& in : j["inputs"]) {
      std::printf("%s  %s <- %s: %zu buckets\n", pad.c_str(), in["port"].get<std::string>().c_str(),
                  in["upstream"].get<std::string>().c_str(), in["outputs"].size());
      for (const auto& o : in["outputs"]) print_node(o, indent + 4);
    }
  }
}

int explain_stored_output(const store& s, const std::string& node, std::int64_t bucket, int depth,
                          bool json, cli_result& result) {
  const auto packed = s.get_meta("config");
  if (!packed) {
    std::cerr << "shoal: " << s.dir() << " records no config to explain its nodes by\n";
    return 2;
  }
  config cfg;
  plan g;
  bool ok = false;
  {
    const scratch_dir unpacked("shoal-explain-config-");
    ok = load_and_plan(unpack_config_files(*packed, unpacked.path.string()), cfg, g, result,
                       /*for_replay=*/true);
  }
  if (!ok) return result.exit_code ? result.exit_code : 2;
  const auto it = g.by_name.find(node);
  if (it == g.by_name.end()) {
    std::cerr << "shoal: no node \"" << node << "\" in the config " << s.dir()
              << " was recorded with (a strategy submitted at runtime is not explained yet)\n";
    return 2;
  }
  nlohmann::json j = shoal::explain_output(s, cfg, g, it->second, bucket, depth);
  if (!j["stored"].get<bool>()) {
    std::cerr << "shoal: " << node << " has no stored output at bucket " << bucket << " ("
              << utc_text(bucket) << ")\n";
    return 1;
  }
  const bool identical = j["recomputed"]["identical"].get<bool>();
  if (json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    const plan_node& n = g.nodes[it->second];
    std::printf("%s  NodeID %s  kind %s v%lld  code %s\n", n.name().c_str(), n.id.c_str(),
                n.kind.c_str(), static_cast<long long>(n.kind_version),
                j.contains("code_hash") ? j["code_hash"].get<std::string>().c_str() : "-");
    print_node(j, 0);
    const auto& r = j["recomputed"];
    std::printf("recomputed from journal records %llu..%llu%s in %.2f s: %s\n",
                static_cast<unsigned long long>(r["journal_from"].get<std::uint64_t>()),
                static_cast<unsigned long long>(r["journal_through"].get<std::uint64_t>()),
                r["whole_history"].get<bool>() ? " (its state depends on all history)" : "",
                r["seconds"].get<double>(),
                identical ? "identical bytes"
                          : ("DIFFERENT from the stored output; recomputed value " +
                             short_value(r["recomputed_value"]))
                                .c_str());
  }
  return identical ? 0 : 1;
}

}  // namespace

void add_explain_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain what a data dir holds: NODE --bucket T walks a stored output back through the "
      "windows it read to the journal events they were made of; --journal SEQ shows one "
      "journal record as ingested (rejected input with its reason and first bytes).");
  struct opts {
    std::string dir, node;
    std::int64_t bucket = 0;
    int depth = -1;
    std::uint64_t journal = 0;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  cmd->add_option("DIR", o->dir, "a data dir (shoal run --data)")->required();
  cmd->add_option("NODE", o->node, "a node's name, with --bucket");
  auto* bucket =
      cmd->add_option("--bucket", o->bucket, "the output's bucket (ns since the epoch, as stored)");
  cmd->add_option("--depth", o->depth, "levels of inputs to show (default: all, to the journal)");
  auto* journal = cmd->add_option("--journal", o->journal,
                                  "the ingest seq of a journal record (as `shoal export "
                                  "--journal` numbers them, from 1)")
                      ->check(CLI::PositiveNumber);
  journal->excludes(bucket);
  cmd->add_flag("--json", o->json,
                "print the record as JSON: `shoal export --journal`'s keys, plus `ingest` and, "
                "for rejected input, `raw_head_hex`");
  cmd->callback([o, bucket, &result] {
    init_logging(result);
    if (!check_data_dir(o->dir, result)) return;
    if (!o->journal && (o->node.empty() || !*bucket)) {
      std::cerr << "shoal: explain needs NODE --bucket T, or --journal SEQ\n";
      result.exit_code = 2;
      return;
    }
    // Buckets are event times: within a few centuries of 1970, far from the int64 limits the
    // window arithmetic would cross.
    if (!o->journal && (o->bucket < INT64_MIN / 2 || o->bucket > INT64_MAX / 2)) {
      std::cerr << "shoal: --bucket " << o->bucket << " is no event time a store can hold\n";
      result.exit_code = 2;
      return;
    }
    try {
      const store s(o->dir, false);
      result.exit_code =
          o->journal ? explain_journal(s, o->journal, o->json)
                     : explain_stored_output(s, o->node, o->bucket, o->depth, o->json, result);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << o->dir << ": " << e.what() << "\n";
      result.exit_code = 1;
    }
  });
}

}  // namespace shoal
