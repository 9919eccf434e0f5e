#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/core/params.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/engine/engine.hpp"

namespace shoal {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) { stop_requested = true; }

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
                   {"publish_queue_dropped", e.publish_stats().queue_dropped}};
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

}  // namespace

void add_run_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand("run", "Run a graph live until --for elapses or SIGINT/SIGTERM.");
  struct options {
    std::string path, for_text, report;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("CONFIG", o->path, "engine config (TOML)")->required();
  cmd->add_option("--for", o->for_text, "stop after this wall-clock duration (e.g. 30s, 5m)");
  cmd->add_option("--report", o->report,
                  "write a JSON report (actor counts, per-node state and counters) on exit");
  cmd->callback([o, &result] {
    init_logging(result);
    std::int64_t for_ns = 0;
    if (!o->for_text.empty()) {
      try {
        for_ns = parse_duration_ns(o->for_text);
      } catch (const std::exception& e) {
        std::cerr << "shoal: --for: " << e.what() << "\n";
        result.exit_code = 2;
        return;
      }
    }
    config cfg;
    plan p;
    if (!load_and_plan(o->path, cfg, p, result)) return;
    engine eng(std::move(cfg), std::move(p));
    try {
      eng.start();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      result.exit_code = 1;
      return;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(for_ns);
    while (!stop_requested && (for_ns == 0 || std::chrono::steady_clock::now() < deadline))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    spdlog::info("stopping{}", stop_requested ? " (signal)" : "");
    eng.stop();
    print_summary(eng);
    if (!o->report.empty()) std::ofstream(o->report) << report_json(eng).dump(2) << "\n";
    for (const auto& r : eng.nodes())
      if (r.state == node_state::failed) result.exit_code = 1;
  });
}

}  // namespace shoal
