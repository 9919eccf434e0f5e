#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/core/params.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/recorded_config.hpp"
#include "runtime/cluster/engine_lease.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/store/dir_lock.hpp"
#include "runtime/transport/curve_keys.hpp"

namespace shoal {

nlohmann::json report_json(const engine& e) {
  auto c = e.counts();
  const plan& p = e.graph();
  nlohmann::json j{{"node_actors", c.node_actors},
                   {"stream_actors", c.stream_actors},
                   {"source_feeds", c.source_feeds},
                   {"declared", p.declared},
                   {"distinct", p.distinct},
                   {"reused", p.reused()},
                   {"published", e.publish_stats().sent},
                   {"unmatched_topics", e.unmatched_topics()},
                   {"publish_queue_dropped", e.publish_stats().queue_dropped}};
  auto& subs = j["subscribers"] = nlohmann::json::array();
  for (const auto& s : e.subscribers()) subs.push_back(subscriber_json(s));
  auto& nodes = j["nodes"] = nlohmann::json::array();
  for (const auto& r : e.nodes()) {
    nodes.push_back({{"id", r.id},
                     {"kind", r.kind},
                     {"names", r.names},
                     {"state", to_string(r.state)},
                     {"reason", r.reason},
                     {"events_in", r.events_in},
                     {"outputs", r.outputs},
                     {"late_dropped", r.late_dropped},
                     {"duplicates", r.duplicates},
                     {"missing", r.missing},
                     {"rejected", r.rejected},
                     {"gaps", r.gaps},
                     {"window_bytes", r.window_bytes},
                     {"notes", r.notes}});
  }
  return j;
}

void print_summary(const engine& e) {
  std::cerr << "node                          kind          state     in        out       late  "
               "rejected\n";
  for (const auto& r : e.nodes()) {
    char line[256];
    std::snprintf(line, sizeof line, "%-29s %-13s %-9s %-9llu %-9llu %-5llu %llu",
                  r.names.front().c_str(), r.kind.c_str(), to_string(r.state),
                  (unsigned long long)r.events_in, (unsigned long long)r.outputs,
                  (unsigned long long)r.late_dropped, (unsigned long long)r.rejected);
    std::cerr << line << (r.reason.empty() ? "" : "  " + r.reason) << "\n";
  }
}

namespace {

// A data dir belongs to one graph: restoring another graph's checkpoints would be wrong.
bool same_graph_or_new(const std::string& dir, const plan& p, cli_result& result) {
  if (!store::exists(dir)) return true;
  store s(dir, false);
  // The graph of the config file; strategies changed at runtime are the dir's own business.
  auto hash = s.get_meta("base_graph_hash");
  if (!hash) hash = s.get_meta("graph_hash");
  if (!hash || *hash == p.graph_hash) return true;
  std::cerr << "shoal: " << dir << " was recorded with a different graph (hash "
            << hash->substr(0, 12) << ", this config plans " << p.graph_hash.substr(0, 12)
            << "); use a new --data dir, or `shoal replay " << dir << " --config CONFIG`\n";
  result.exit_code = 2;
  return false;
}

}  // namespace

void add_run_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand("run", "Run a graph live until --for elapses or SIGINT/SIGTERM.");
  struct options {
    std::string path, for_text, report, data;
    std::int64_t checkpoint_every = 100;
    bool no_data = false, standby = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("CONFIG", o->path, "engine config (TOML)")->required();
  cmd->add_option("--for", o->for_text, "stop after this wall-clock duration (e.g. 30s, 5m)");
  cmd->add_option("--data", o->data,
                  "data dir: journal, outputs, checkpoints (default: [engine] data, ./shoal-data); "
                  "an existing dir is continued from its last checkpoint");
  cmd->add_flag("--no-data", o->no_data, "keep nothing: no journal, outputs or checkpoints");
  cmd->add_option("--checkpoint-every", o->checkpoint_every,
                  "checkpoint node state every N buckets of event time (0 = only at stop)")
      ->capture_default_str();
  cmd->add_flag(
      "--standby", o->standby,
      "[cluster]: follow engine <engine_id>'s journal from the cluster (computing, storing "
      "and publishing the same outputs) and take over when its lease expires "
      "(docs/cluster.md)");
  cmd->add_option("--report", o->report,
                  "write a JSON report (actor counts, per-node state and counters) on exit");
  cmd->callback([o, &result] {
    init_logging(result);
    std::int64_t for_ns = 0;
    if (!parse_for_option(o->for_text, for_ns, result)) return;
    config cfg;
    plan p;
    if (!load_and_plan(o->path, cfg, p, result)) return;
    if (!o->report.empty() && !check_output_path("--report", o->report, false, result)) return;
    engine_options opt;
    if (!o->no_data) {
      opt.data_dir = o->data.empty() ? cfg.engine.data_dir : o->data;
      if (!check_output_path(o->data.empty() ? "[engine] data" : "--data", opt.data_dir, true,
                             result))
        return;
      opt.config_text = pack_config_files(cfg);
      opt.checkpoint_every = o->checkpoint_every;
      opt.standby = o->standby;
      opt.commit.max_batch = static_cast<std::size_t>(cfg.engine.commit_records);
      opt.commit.max_delay = std::chrono::milliseconds(cfg.engine.commit_ms);
      // Once a source runs, what it journaled must be committed before the process ends: a
      // signal then stops the engine (a catch-up where it is) instead of ending the process.
      opt.before_sources = [] { catch_stop_signals(); };
      opt.stop = &stop_flag();
      try {
        if (!same_graph_or_new(opt.data_dir, p, result)) return;
      } catch (const std::exception& e) {
        std::cerr << "shoal: " << e.what() << "\n";
        result.exit_code = 1;
        return;
      }
    }
    const std::atomic<bool>* stop_asked = nullptr;
    std::chrono::steady_clock::time_point deadline;
    bool fed = false;
    std::unique_ptr<engine> eng;
    // More than once only on a placed standby whose share changed (engine::restart_wanted): the
    // old engine is gone (its data dir unlocked, its ports free) before the next one starts.
    for (bool again = true; again;) {
      eng.reset();
      eng = std::make_unique<engine>(cfg, p, opt);
      opt.lease.reset();  // the engine owns it now (its on_lost handler is the engine's)
      try {
        eng->start();
      } catch (const dir_locked& e) {
        std::cerr << "shoal: " << e.what() << "\n";
        result.exit_code = 2;
        return;
      } catch (const curve_error& e) {
        std::cerr << "shoal: curve: " << e.what() << "\n";
        result.exit_code = 2;
        return;
      } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        result.exit_code = 1;
        return;
      }
      again = false;
      // A signal during a start ends the process at once until its sources start (nothing
      // journaled yet); from then on, and while it runs, the engine stops.
      if (!stop_asked)
        deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(for_ns);
      stop_asked = &catch_stop_signals();
      const std::atomic<bool>& stop_requested = *stop_asked;
      while (!stop_requested && (for_ns == 0 || std::chrono::steady_clock::now() < deadline)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        eng->tick();
        if ((fed = eng->sources_done())) break;
        if ((again = eng->restart_wanted())) break;
      }
      if (again) {
        spdlog::info("restarting on data dir {}", opt.data_dir);
        eng->stop();  // its follower (which may be taking the lease) has ended
        if (auto lease = eng->lease_taken()) {
          opt.standby = false;
          opt.lease = std::move(lease);
          opt.reported = eng->reports_taken();
        }
        if (*stop_asked) {
          again = false;  // a signal while it stopped: no new start
          if (opt.lease) opt.lease->release();  // a standby elsewhere takes over at once
          opt.lease.reset();
          opt.reported.clear();
        } else {
          default_stop_signals();
        }
      }
    }
    spdlog::info("stopping{}", *stop_asked ? " (signal)"
                               : fed       ? " (every source delivered its feed)"
                                           : "");
    eng->stop();
    if (result.log_format != "json") print_summary(*eng);  // JSON logs stay one object per line
    if (!o->report.empty()) std::ofstream(o->report) << report_json(*eng).dump(2) << "\n";
    for (const auto& r : eng->nodes())
      if (r.state == node_state::failed) result.exit_code = 1;
  });
}

}  // namespace shoal
