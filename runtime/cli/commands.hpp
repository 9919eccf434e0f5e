#pragma once
#include <CLI/CLI.hpp>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>

namespace shoal {

// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error (nothing was started),
// 128 + signal number when a signal interrupted `replay` (130 for Ctrl-C).
struct cli_result {
  int exit_code = 0;
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one JSON object per line
};

// Logs go to stderr (stdout carries data: plans, outputs), one line each.
void init_logging(const cli_result& result);

void add_run_command(CLI::App& app, cli_result& result);
void add_plan_command(CLI::App& app, cli_result& result);
void add_tail_command(CLI::App& app, cli_result& result);
void add_replay_command(CLI::App& app, cli_result& result);
void add_parity_command(CLI::App& app, cli_result& result);
void add_fabricate_command(CLI::App& app, cli_result& result);
void add_export_command(CLI::App& app, cli_result& result);
void add_import_command(CLI::App& app, cli_result& result);
void add_manifest_command(CLI::App& app, cli_result& result);
void add_explain_command(CLI::App& app, cli_result& result);
void add_build_command(CLI::App& app, cli_result& result);
void add_admin_command(CLI::App& app, cli_result& result);
void add_keys_command(CLI::App& app, cli_result& result);

// Per-node table of an engine's report on stderr, and the same as JSON.
class engine;
void print_summary(const engine& e);
nlohmann::json report_json(const engine& e);

// Parses a --for DURATION option ("" = no limit → 0); on a bad value prints the error, sets exit
// code 2 and returns false.
bool parse_for_option(const std::string& text, std::int64_t& ns, cli_result& result);

// Parses a time option (--from, --to: ns since the epoch or ISO-8601 UTC, parse_utc_time); ""
// gives nullopt. On a bad value prints "shoal: NAME: ..." and sets exit code 2 (nullopt too).
std::optional<std::int64_t> parse_time_option(const std::string& name, const std::string& text,
                                              cli_result& result);

// An output path given on the command line (--data, --out, --report, --digest FILE): a dir to
// create or continue (is_dir) or a file to write. When something of the other kind is already
// there, prints "shoal: OPTION PATH: …", sets exit code 2 and returns false.
bool check_output_path(const std::string& option, const std::string& path, bool is_dir,
                       cli_result& result);

// A data dir given on the command line (replay, manifest, explain, build): when DIR is not a
// directory holding a shoal store, prints "shoal: DIR: not a shoal data dir (no data.mdb)",
// sets exit code 2 and returns false.
bool check_data_dir(const std::string& dir, cli_result& result);

// Makes SIGINT and SIGTERM set the returned flag instead of killing the process, so a long
// command (run, replay) can stop cleanly; stop_signal() is the signal received (0 = none yet).
const std::atomic<bool>& catch_stop_signals();
// That flag, whether or not the handlers are installed yet.
const std::atomic<bool>& stop_flag();
// SIGINT and SIGTERM end the process again (while an engine starts, which may wait long).
void default_stop_signals();
int stop_signal();

// Peak resident set size of this process, in bytes.
std::size_t peak_rss_bytes();

// Loads and plans CONFIG; on a config error prints one line "shoal: file:line: key: problem"
// and sets exit code 2. Returns false then.
struct config;
struct plan;
// `replay` plans with for_replay: it never publishes, so a mirror's read-only check (which
// needs the mirrored engine's config) does not apply.
bool load_and_plan(const std::string& path, config& cfg, plan& p, cli_result& result,
                   bool for_replay = false);

}  // namespace shoal
