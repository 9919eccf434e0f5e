// shoal explain: why a data dir holds what it holds (provenance issue). Read-only: no lock.
//
//   explain DIR NODE --bucket T   the stored output, then per input port the upstream outputs
//                                 its window read (period buckets back), recursively, down to
//                                 the journal events each source-stream bucket was made of
//   explain DIR --journal SEQ     one journal record as ingested; rejected input with its reason
//                                 and first bytes (hex and text)
//
// Journal events are found by event time, not by a scan of the whole journal: a binary search
// over ingest seqs for the first record at or after the bucket (less a margin of four intervals
// and the source's allowed lateness), then a short forward read. It relies on records arriving
// in roughly event-time order, as a live feed's do; an event later than that margin is not
// listed.
#include <unistd.h>

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
#include "runtime/engine/engine.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"
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
  std::optional<std::string> bytes;
  s.read_journal(seq - 1, 1, [&](std::uint64_t at, std::string_view b) {
    if (at == seq) bytes = std::string(b);
  });
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
std::optional<std::int64_t> record_ts(const journal_record& r) {
  if (const auto* e = std::get_if<Event>(&r)) return e->ts;
  if (const auto* w = std::get_if<Watermark>(&r)) return w->ts;
  return std::nullopt;
}

// Removes a scratch dir however the scope ends (a replay that throws included).
struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(std::filesystem::path p) : path(std::move(p)) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

class explainer {
 public:
  explainer(const store& s, const config& cfg, const plan& g) : s_(s), cfg_(cfg), g_(g) {
    if (auto kinds = s.get_meta("kinds")) kinds_ = to_json(from_msgpack(*kinds));
  }

  // The node's stored output at bucket, and what it read, `depth` levels down (-1: all).
  nlohmann::json node_at(std::size_t i, std::int64_t bucket, int depth) {
    const plan_node& n = g_.nodes[i];
    nlohmann::json j{{"node", n.name()},
                     {"id", n.id},
                     {"kind", n.kind},
                     {"kind_version", n.kind_version},
                     {"bucket", bucket}};
    if (kinds_.contains(n.kind)) j["code_hash"] = kinds_[n.kind]["code_hash"];
    bool found = false;
    s_.for_each_output_of(n.id, bucket - 1, bucket, [&](std::int64_t, std::string_view bytes) {
      const Output o = decode_output(bytes, stored_data_limits());
      j["seq"] = o.seq;
      j["value"] = o.value ? to_json(*o.value) : nlohmann::json(nullptr);
      found = true;
    });
    j["stored"] = found;
    if (depth == 0) return j;
    if (n.is_stream()) {
      j["journal"] = journal_events(n, bucket);
      return j;
    }
    // The window: period buckets of this node's interval, ending with this one.
    const std::int64_t from = bucket - static_cast<std::int64_t>(n.period - 1) * n.interval_ns;
    const std::int64_t through = bucket + n.interval_ns - 1;
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& in : n.inputs) {
      const plan_node& up = g_.nodes[in.upstream];
      nlohmann::json outs = nlohmann::json::array();
      std::vector<std::int64_t> buckets;
      s_.for_each_output_of(up.id, from - 1, through,
                            [&](std::int64_t b, std::string_view) { buckets.push_back(b); });
      for (auto b : buckets) outs.push_back(node_at(in.upstream, b, depth < 0 ? -1 : depth - 1));
      inputs.push_back({{"port", in.port}, {"upstream", up.name()}, {"outputs", std::move(outs)}});
    }
    j["inputs"] = std::move(inputs);
    return j;
  }

  // The journal events of a source stream whose event time falls in the bucket.
  nlohmann::json journal_events(const plan_node& n, std::int64_t bucket) {
    const std::int64_t margin = this->margin(n);
    const std::uint64_t start = first_at_or_after(bucket - margin);
    nlohmann::json out = nlohmann::json::array();
    bool past = false;
    for (std::uint64_t after = start ? start - 1 : 0; !past;) {
      const std::size_t got =
          s_.read_journal(after, 256, [&](std::uint64_t seq, std::string_view b) {
            after = seq;
            if (past) return;
            journal_record r;
            try {
              r = decode_journal_record(b);
            } catch (const std::exception&) {
              return;
            }
            const auto ts = record_ts(r);
            if (ts && *ts > bucket + n.interval_ns + margin) past = true;
            const auto* e = std::get_if<Event>(&r);
            if (!e || std::find(n.names.begin(), n.names.end(), e->stream) == n.names.end()) return;
            if (bucket_of(e->ts, n.interval_ns) != bucket) return;
            out.push_back({{"ingest", seq}, {"stream", e->stream}, {"seq", e->seq}, {"ts", e->ts}});
          });
      if (got == 0) break;
    }
    return out;
  }

  // The journal margin around a bucket of node i: four intervals and its sources' lateness.
  std::int64_t margin(const plan_node& n) const {
    std::int64_t lateness = 0;
    for (const auto& src : cfg_.sources) lateness = std::max(lateness, src.allowed_lateness_ns);
    return 4 * n.interval_ns + lateness;
  }

  // The first ingest seq whose record's event time is at or after ts (records without one, the
  // runtime changes, take the time of the next record that has one); journal_last() + 1 when
  // there is none.
  std::uint64_t first_at_or_after(std::int64_t ts) {
    std::uint64_t lo = 1, hi = s_.journal_last() + 1;  // answer in [lo, hi]
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      std::optional<std::int64_t> t;
      std::uint64_t at = mid - 1;
      while (!t && at < hi - 1) {
        if (s_.read_journal(at, 1, [&](std::uint64_t seq, std::string_view b) {
              at = seq;
              try {
                t = record_ts(decode_journal_record(b));
              } catch (const std::exception&) {
              }
            }) == 0)
          break;
      }
      if (t && *t < ts) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

 private:
  const store& s_;
  const config& cfg_;
  const plan& g_;
  nlohmann::json kinds_ = nlohmann::json::object();
};

// Event time before a node's bucket whose input its output depends on: its own window (the
// history its kind needs for an exact state, kind_info::warm_history) plus, per input, the
// upstream's; nullopt when the state depends on all history (ema).
std::optional<std::int64_t> history_ns(const plan& g, std::size_t i) {
  const plan_node& n = g.nodes[i];
  if (n.is_stream()) return 0;
  const kind_info* k = find_kind(n.kind);
  const auto buckets = k ? k->warm_history(n.params, n.interval_ns, n.period) : std::nullopt;
  if (!buckets) return std::nullopt;
  std::int64_t up = 0;
  for (const auto& in : n.inputs) {
    const auto h = history_ns(g, in.upstream);
    if (!h) return std::nullopt;
    up = std::max(up, *h + g.nodes[in.upstream].interval_ns);
  }
  return static_cast<std::int64_t>(*buckets) * n.interval_ns + up;
}

// Replays the stretch of journal the output at bucket depends on, through the recorded graph
// into a scratch dir, and compares the recomputed output with the stored bytes (at the stored
// seq: numbering is the one thing a partial replay cannot know).
nlohmann::json recompute(const store& s, const config& cfg, const plan& g, std::size_t i,
                         std::int64_t bucket, const std::string& stored_bytes, explainer& e) {
  const plan_node& n = g.nodes[i];
  const auto t0 = std::chrono::steady_clock::now();
  const auto history = history_ns(g, i);
  const std::int64_t margin = e.margin(n);
  const std::uint64_t first = history ? e.first_at_or_after(bucket - *history - margin) : 1;
  const std::uint64_t through =
      std::min(s.journal_last(), e.first_at_or_after(bucket + n.interval_ns + margin));
  const scratch_dir scratch(std::filesystem::temp_directory_path() /
                            ("shoal-explain-" + std::to_string(::getpid()) + "-replay"));
  nlohmann::json j{{"journal_from", first},
                   {"journal_through", through},
                   {"whole_history", !history.has_value()}};
  std::optional<std::string> again;
  {
    engine_options opt;
    opt.data_dir = scratch.path.string();
    opt.publish = false;
    opt.live = false;
    opt.inline_nodes = !s.journal_has_controls();
    engine eng(cfg, g, opt);
    eng.start();
    replay_options ro;
    ro.after_seq = first - 1;
    ro.through_seq = through;
    eng.replay(s, ro);
    eng.stop();
  }
  {
    const store out(scratch.path.string(), false);
    out.for_each_output_of(n.id, bucket - 1, bucket,
                           [&](std::int64_t, std::string_view b) { again = std::string(b); });
  }
  const Output stored = decode_output(stored_bytes, stored_data_limits());
  if (again) {
    Output o = decode_output(*again, stored_data_limits());
    o.seq = stored.seq;
    const std::string bytes = encode_output(o);
    j["identical"] = bytes == stored_bytes;
    if (bytes != stored_bytes) j["recomputed_value"] = o.value ? to_json(*o.value) : nullptr;
  } else {
    j["identical"] = false;
    j["recomputed_value"] = "no output at this bucket";
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return j;
}

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

int explain_output(const store& s, const std::string& node, std::int64_t bucket, int depth,
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
    const scratch_dir unpacked(std::filesystem::temp_directory_path() /
                               ("shoal-explain-" + std::to_string(::getpid())));
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
  explainer e(s, cfg, g);
  nlohmann::json j = e.node_at(it->second, bucket, depth);
  if (!j["stored"].get<bool>()) {
    std::cerr << "shoal: " << node << " has no stored output at bucket " << bucket << " ("
              << utc_text(bucket) << ")\n";
    return 1;
  }
  std::string stored;
  s.for_each_output_of(g.nodes[it->second].id, bucket - 1, bucket,
                       [&](std::int64_t, std::string_view b) { stored = std::string(b); });
  j["recomputed"] = recompute(s, cfg, g, it->second, bucket, stored, e);
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
      result.exit_code = o->journal
                             ? explain_journal(s, o->journal, o->json)
                             : explain_output(s, o->node, o->bucket, o->depth, o->json, result);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << o->dir << ": " << e.what() << "\n";
      result.exit_code = 1;
    }
  });
}

}  // namespace shoal
