#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "runtime/cli/commands.hpp"
#include "runtime/cli/recorded_config.hpp"
#include "runtime/cluster/journal_pull.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {
namespace fs = std::filesystem;

std::size_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

namespace {

// Current anonymous (heap) and file-backed (LMDB map) resident set, in MiB, from /proc.
std::string rss_split() {
  std::ifstream status("/proc/self/status");
  std::string line, anon = "?", file = "?";
  while (std::getline(status, line)) {
    auto mib = [&](std::string& out) {
      out = std::to_string(std::stoull(line.substr(line.find(':') + 1)) / 1024);
    };
    if (line.rfind("RssAnon:", 0) == 0) mib(anon);
    if (line.rfind("RssFile:", 0) == 0) mib(file);
  }
  return "now " + anon + " MiB anonymous + " + file + " MiB mapped files";
}

// "max" → 0; "1x" → 1; "10x" → 10.
bool parse_speed(const std::string& text, double& speed) {
  if (text == "max") {
    speed = 0;
    return true;
  }
  if (text.size() < 2 || text.back() != 'x') return false;
  try {
    speed = std::stod(text.substr(0, text.size() - 1));
  } catch (...) {
    return false;
  }
  return speed > 0;
}

// --cluster / --cluster-config: copies the engine's journal (and its config) from the cluster
// into a new dir.
template <class Options>
bool pull_from_cluster(const Options& o, const CLI::App& cmd, cli_result& result) {
  if (store::exists(o.dir)) {
    std::cerr << "shoal: " << o.dir
              << " already holds data; with --cluster, DIR is where the journal is copied to\n";
    result.exit_code = 2;
    return false;
  }
  cluster_decl c;
  if (!o.cluster_config.empty()) {
    // The engine's own [cluster] table: its servers, names, TLS and credential files.
    try {
      c = load_config(o.cluster_config).cluster;
    } catch (const std::exception& e) {
      std::cerr << "shoal: --cluster-config: " << e.what() << "\n";
      result.exit_code = 2;
      return false;
    }
    if (!c.enabled) {
      std::cerr << "shoal: --cluster-config: " << o.cluster_config << " has no [cluster] table\n";
      result.exit_code = 2;
      return false;
    }
  }
  c.enabled = true;
  for (std::size_t start = 0; start <= o.cluster.size();) {
    const auto comma = std::min(o.cluster.find(',', start), o.cluster.size());
    if (comma > start) c.servers.push_back(o.cluster.substr(start, comma - start));
    start = comma + 1;
  }
  // Given on the command line, or without --cluster-config (their defaults), they decide.
  const bool from_file = !o.cluster_config.empty();
  if (!from_file || cmd.count("--stream")) c.stream = o.stream;
  if (!from_file || cmd.count("--subjects")) c.subjects = o.subjects;
  if (!from_file || cmd.count("--engine-id")) c.engine_id = o.engine_id;
  try {
    const pulled_journal p = pull_journal(c, o.dir);
    std::cerr << "copied " << p.records << " journal records of engine " << c.engine_id
              << " from stream " << c.stream << " (" << p.messages << " messages through "
              << p.stream_seq << ") into " << o.dir << (p.config ? "" : "; no config recorded")
              << "\n";
    return true;
  } catch (const std::exception& e) {
    std::cerr << "shoal: --cluster: " << e.what() << "\n";
    result.exit_code = 2;
    return false;
  }
}

}  // namespace

void add_replay_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "replay", "Feed a recorded journal through the graph and store the outputs (for parity).");
  struct options {
    std::string dir, config, speed = "max", out, digest, report;
    std::string cluster, cluster_config, stream = "SHOAL", subjects = "shoal", engine_id = "shoal";
    bool force = false, actors = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("DIR", o->dir,
                  "data dir of a recorded run (or of `shoal fabricate`); with --cluster, a new "
                  "dir the engine's journal is copied into from the cluster first")
      ->required();
  cmd->add_option("--cluster", o->cluster,
                  "NATS server URLs (comma-separated): read the journal of --engine-id from the "
                  "cluster's --stream instead of a data dir");
  cmd->add_option("--cluster-config", o->cluster_config,
                  "read the journal from the cluster an engine config's [cluster] table names "
                  "(servers, stream, subjects, engine_id, TLS and credential files); "
                  "--stream, --subjects and --engine-id override it")
      ->excludes("--cluster");
  cmd->add_option("--stream", o->stream, "with --cluster: the JetStream stream")
      ->capture_default_str();
  cmd->add_option("--subjects", o->subjects, "with --cluster: the [cluster] subjects prefix")
      ->capture_default_str();
  cmd->add_option("--engine-id", o->engine_id,
                  "with --cluster: the engine whose journal to replay ([cluster] engine_id)")
      ->capture_default_str();
  cmd->add_option("--config", o->config, "graph to replay through (default: the recorded one)");
  cmd->add_option("--speed", o->speed, "max, 1x (event time), or Nx")->capture_default_str();
  cmd->add_option("--out", o->out, "data dir for the replay's outputs (default: DIR.replay)");
  cmd->add_flag("--force", o->force, "replace --out if it already holds data");
  cmd->add_option(
         "--digest", o->digest,
         "store nothing: write each node's wire digest (SHA-256 chain of its encoded "
         "outputs) as JSON to FILE, or to stdout without FILE; compare with `shoal parity`")
      ->expected(0, 1)
      ->default_str("-");
  cmd->add_flag("--actors", o->actors,
                "run the nodes as actors, as a live engine does (slower); without it, a journal "
                "with no runtime strategy changes is replayed with every node in one thread");
  cmd->add_option("--report", o->report,
                  "also write the run's figures as JSON to FILE (records, outputs, seconds, "
                  "rates, peak RSS), for benchmarks and scripts");
  cmd->callback([o, cmd, &result] {
    init_logging(result);
    const std::atomic<bool>& interrupted = catch_stop_signals();
    double speed = 0;
    if (!parse_speed(o->speed, speed)) {
      std::cerr << "shoal: --speed: expected max, 1x or Nx (e.g. 10x), got \"" << o->speed
                << "\"\n";
      result.exit_code = 2;
      return;
    }
    if ((!o->cluster.empty() || !o->cluster_config.empty()) && !pull_from_cluster(*o, *cmd, result))
      return;
    if (!check_data_dir(o->dir, result)) return;
    const bool digest_mode = cmd->count("--digest") > 0;
    if (digest_mode && !o->out.empty()) {
      std::cerr << "shoal: --digest stores nothing; it cannot be combined with --out\n";
      result.exit_code = 2;
      return;
    }
    if (digest_mode && !o->digest.empty() && o->digest != "-" &&
        !check_output_path("--digest", o->digest, false, result))
      return;
    const std::string out = digest_mode ? ""
                            : o->out.empty()
                                ? fs::path(o->dir).lexically_normal().string() + ".replay"
                                : o->out;
    if (!digest_mode && !check_output_path("--out", out, true, result)) return;
    if (!o->report.empty() && !check_output_path("--report", o->report, false, result)) return;
    if (!digest_mode && store::exists(out)) {
      if (!o->force) {
        std::cerr << "shoal: --out " << out
                  << " already holds data; remove it, choose another, or add --force\n";
        result.exit_code = 2;
        return;
      }
      fs::remove_all(out);
    }
    // An existing dir without data may hold other files: an interrupted replay then removes
    // only what it wrote.
    const bool out_existed = !digest_mode && fs::exists(out);
    std::unique_ptr<store> opened;
    try {
      opened = std::make_unique<store>(o->dir, false);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    const store& from = *opened;
    std::string config_path = o->config;
    fs::path unpacked;
    if (config_path.empty()) {
      auto packed = from.get_meta("config");
      if (!packed) {
        std::cerr << "shoal: " << o->dir << " records no config; pass --config CONFIG\n";
        result.exit_code = 2;
        return;
      }
      unpacked = fs::temp_directory_path() / ("shoal-replay-" + std::to_string(::getpid()));
      config_path = unpack_config_files(*packed, unpacked.string());
    }
    config cfg;
    plan p;
    const bool ok = load_and_plan(config_path, cfg, p, result, /*for_replay=*/true);
    const std::string packed_config = ok ? pack_config_files(cfg) : "";
    if (!unpacked.empty()) fs::remove_all(unpacked);
    if (!ok) return;
    engine_options opt;
    opt.config_text = packed_config;
    opt.data_dir = out;
    opt.publish = false;
    opt.live = false;
    opt.data_sync = store_sync::on_sync;  // an interrupted replay removes it: see engine_options
    opt.digest = digest_mode;
    // Inline (no actors) unless asked otherwise or the journal changes the graph at runtime,
    // which only the actor graph can follow.
    opt.inline_nodes = !o->actors && !from.journal_has_controls();
    // An interrupted or failed replay leaves no partial --out behind (it was never flushed to
    // the disk: on_sync), only what was there before it. Says what it removed.
    auto remove_partial = [&] {
      if (digest_mode) {
        std::cerr << "no digest written\n";
      } else if (out_existed) {
        for (const char* f : {"data.mdb", "lock.mdb", "shoal.lock"}) fs::remove(fs::path(out) / f);
        std::cerr << "removed the partial output (data.mdb) from " << out << "\n";
      } else {
        fs::remove_all(out);
        std::cerr << "removed partial output " << out << "\n";
      }
    };
    std::unique_ptr<engine> eng;
    replay_stats st;
    bool started = false;  // from then on --out is this replay's (it holds the dir's lock)
    try {
      eng = std::make_unique<engine>(cfg, std::move(p), opt);
      eng->start();
      started = true;
      replay_options ro;
      ro.speed = speed;
      ro.progress = true;
      ro.cancel = &interrupted;
      st = eng->replay(from, ro);
      eng->stop();
    } catch (const std::exception& e) {
      if (!started) throw;  // --out may be another process's: leave it as it is
      eng.reset();          // closes --out before it is removed
      std::cerr << "shoal: replay failed: " << e.what() << "; ";
      remove_partial();
      result.exit_code = 1;
      return;
    }
    if (st.cancelled) {
      eng.reset();  // closes --out before it is removed
      std::cerr << "shoal: replay interrupted by "
                << (stop_signal() == SIGTERM ? "SIGTERM" : "SIGINT") << " after " << st.records
                << " of " << from.journal_count() << " journal records; ";
      remove_partial();
      result.exit_code = 128 + stop_signal();
      return;
    }
    std::uint64_t outputs = 0;
    for (const auto& r : eng->nodes()) outputs += r.outputs;
    if (digest_mode) {
      const std::string text = to_json(eng->digests()).dump(1) + "\n";
      if (o->digest.empty() || o->digest == "-") {
        std::cout << text;
      } else {
        std::ofstream f(o->digest);
        f << text;
        if (!f) {
          std::cerr << "shoal: --digest: cannot write " << o->digest << "\n";
          result.exit_code = 1;
          return;
        }
      }
    }
    std::cerr << "replayed " << st.records << " journal records (" << st.events << " events, "
              << st.watermarks << " watermarks, " << st.rejected << " rejected) in " << st.seconds
              << " s: " << static_cast<std::uint64_t>(st.records / std::max(st.seconds, 1e-9))
              << " records/s; " << outputs
              << (digest_mode ? " outputs digested" : " outputs stored in " + out) << "; peak RSS "
              << peak_rss_bytes() / (1024 * 1024) << " MiB (" << rss_split() << ")\n";
    std::size_t failed = 0;
    for (const auto& r : eng->nodes())
      if (r.state == node_state::failed) ++failed;
    if (failed) result.exit_code = 1;
    if (!o->report.empty()) {
      const double secs = std::max(st.seconds, 1e-9);
      const nlohmann::json report = {{"mode", digest_mode ? "digest" : "stored"},
                                     {"records", st.records},
                                     {"events", st.events},
                                     {"watermarks", st.watermarks},
                                     {"rejected", st.rejected},
                                     {"controls", st.controls},
                                     {"outputs", outputs},
                                     {"nodes", eng->nodes().size()},
                                     {"inline", opt.inline_nodes},
                                     {"failed_nodes", failed},
                                     {"seconds", st.seconds},
                                     {"records_per_s", static_cast<double>(st.records) / secs},
                                     {"events_per_s", static_cast<double>(st.events) / secs},
                                     {"outputs_per_s", static_cast<double>(outputs) / secs},
                                     {"peak_rss_bytes", peak_rss_bytes()}};
      std::ofstream f(o->report);
      f << report.dump(1) << "\n";
      if (!f) {
        std::cerr << "shoal: --report: cannot write " << o->report << "\n";
        result.exit_code = 1;
      }
    }
  });
}

}  // namespace shoal
