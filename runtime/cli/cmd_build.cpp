// `shoal build CONFIG --data DIR`: CONFIG's outputs over DIR's recorded history, computing only
// what changed (runtime/build/build_history.hpp); afterwards DIR belongs to CONFIG and
// `shoal run CONFIG --data DIR` continues it live.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "actors/core/duration.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/build/build_history.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/recorded_config.hpp"
#include "runtime/engine/runtime_strategies.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/kinds_meta.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/store/dir_lock.hpp"

namespace shoal {
namespace fs = std::filesystem;

namespace {

// "1d", "6h" (a duration), or "N" (N buckets of the graph's coarsest interval).
bool parse_segment(const std::string& text, const plan& p, std::int64_t& ns) {
  try {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
      std::int64_t coarsest = 0;
      for (const auto& n : p.nodes) coarsest = std::max(coarsest, n.interval_ns);
      ns = std::stoll(text) * coarsest;
    } else {
      ns = parse_duration_ns(text);
    }
  } catch (const std::exception&) {
    return false;
  }
  return ns > 0;
}

// The graph DIR's outputs were made with (its meta config); CONFIG's own when it records none.
bool recorded_plan(const store& s, const plan& target, plan& out, cli_result& result) {
  const auto packed = s.get_meta("config");
  if (!packed) {
    out = target;
    return true;
  }
  const fs::path dir = fs::temp_directory_path() / ("shoal-build-" + std::to_string(::getpid()));
  config cfg;
  bool ok = false;
  try {
    ok = load_and_plan(unpack_config_files(*packed, dir.string()), cfg, out, result, true);
  } catch (const std::exception& e) {
    std::cerr << "shoal: the config recorded in " << s.dir() << " cannot be read: " << e.what()
              << "\n";
    result.exit_code = 2;
  }
  fs::remove_all(dir);
  return ok;
}

}  // namespace

void add_build_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "build",
      "Compute CONFIG's outputs over DIR's recorded history like a build system: only what "
      "changed runs, results with unchanged inputs are reused, and DIR then continues live "
      "with `shoal run CONFIG --data DIR`.");
  struct options {
    std::string config, dir, segment = "1d";
    bool dry_run = false, json = false, retry_dead = false;
    int retries = 2;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("CONFIG", o->config, "the graph to build (TOML)")->required();
  cmd->add_option("--data", o->dir, "data dir with the recorded journal and outputs")->required();
  cmd->add_option("--segment", o->segment,
                  "segment length: a duration (1d, 6h) or N buckets of the coarsest interval; "
                  "a multiple of every node's interval")
      ->capture_default_str();
  cmd->add_flag("--dry-run", o->dry_run,
                "print what would run, be reused, or cannot be built, and why; change nothing");
  cmd->add_flag("--json", o->json, "print the report as JSON");
  cmd->add_option("--retries", o->retries,
                  "a segment whose kernel throws is tried again this many times (from the state "
                  "before it), then it is DEAD and listed as a dead letter")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_flag("--retry-dead", o->retry_dead,
                "try the dead letters of earlier builds again (after fixing what made them throw)");
  cmd->footer(
      "Exit status: 0 when the build is complete, 3 when a segment is impossible (no data), "
      "failed, dead or blocked, 2 for a usage or configuration error.");
  cmd->callback([o, &result] {
    init_logging(result);
    config cfg;
    auto target = std::make_shared<plan>();
    if (!load_and_plan(o->config, cfg, *target, result, /*for_replay=*/true)) return;
    build_options bo;
    bo.dry_run = o->dry_run;
    bo.retries = o->retries;
    bo.retry_dead = o->retry_dead;
    if (!parse_segment(o->segment, *target, bo.segment_ns)) {
      std::cerr << "shoal: --segment: expected a duration (1d, 6h) or a number of buckets, got \""
                << o->segment << "\"\n";
      result.exit_code = 2;
      return;
    }
    if (!check_data_dir(o->dir, result)) return;
    try {
      // A dry run reads (no lock, read-only); a build is the dir's one writer.
      std::unique_ptr<dir_lock> lock;
      if (!o->dry_run) lock = std::make_unique<dir_lock>(o->dir);
      store db(o->dir, !o->dry_run);
      plan recorded;
      if (!recorded_plan(db, *target, recorded, result)) return;
      std::unique_ptr<store_writer> writer;
      if (!o->dry_run) {
        // Few, large transactions: each commit syncs to disk, and a build writes in bulk with
        // nothing waiting on it (the engine's small ones keep a live feed's latency low).
        store_writer::options wo;
        wo.max_batch = 50'000;
        wo.max_txn_bytes = std::size_t{4} << 20;
        wo.max_delay = std::chrono::milliseconds(200);
        writer = std::make_unique<store_writer>(db, wo);
      }
      const build_report r = build_history(db, writer.get(), recorded, target, bo);
      if (writer) {
        // The dir now belongs to CONFIG: `shoal run CONFIG` continues from the built state.
        // Strategies changed at runtime are not part of a build (it applies CONFIG to all
        // history), so the checkpoint carries none.
        writer->put_meta("config", pack_config_files(cfg));
        writer->put_meta("graph_hash", target->graph_hash);
        writer->put_meta("base_graph_hash", target->graph_hash);
        writer->put_meta("kinds",
                         kinds_meta(*target, read_kinds_meta(db.get_meta("kinds")), r.behaviour));
        // The nodes' states are at the end of history: where the last checkpoint was, or (a
        // dir no engine checkpointed, e.g. from `shoal fabricate`) the journal's end.
        Value cp;
        if (auto bytes = db.get_meta("checkpoint")) cp = from_msgpack(*bytes);
        if (!cp.is_map() || !cp.find("journal_pos"))
          cp = Value(value_map{{"journal_pos", Value(db.journal_last())}});
        cp.as_map().insert_or_assign("strategies", runtime_strategies{}.to_value());
        writer->put_meta("checkpoint", to_msgpack(cp));
        writer->flush();
        writer->stop();
      }
      if (o->json)
        std::cout << r.json().dump(2) << "\n";
      else
        std::cout << r.text();
      if (!r.complete()) result.exit_code = 3;
    } catch (const dir_locked& e) {
      std::cerr << "shoal: " << e.what() << "\n";
      result.exit_code = 2;
    } catch (const build_error& e) {
      std::cerr << "shoal: build: " << e.what() << "\n";
      result.exit_code = 2;
    } catch (const std::exception& e) {
      std::cerr << "shoal: build failed: " << e.what() << "\n";
      result.exit_code = 1;
    }
  });
}

}  // namespace shoal
