// shoal: the command-line entry point. Each subcommand lives in its own file (cmd_*.cpp).
#include <CLI/CLI.hpp>

#include <iostream>

#include "runtime/cli/commands.hpp"

// jemalloc's options (read when the binary is linked with it, see CMakeLists.txt; unused
// otherwise): hand freed pages back to the kernel within a second instead of ten, so a long
// replay's resident memory stays flat instead of holding its peak.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}

namespace {

// --help and --version exit 0; every other CLI11 error is a usage error: its message, a hint,
// exit 2 (CLI11's own codes, 105..., are documented nowhere a user looks).
int usage_error(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  const auto subs = app.get_subcommands();
  const auto extras = app.remaining();
  std::string hint = "shoal --help";
  if (subs.empty()) {
    // require_subcommand reports "A subcommand is required" even when one was given, misspelt.
    std::string names;
    for (const auto* sub : app.get_subcommands({}))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    if (extras.empty())
      std::cerr << "shoal: " << e.what() << " (commands: " << names << ")\n";
    else if (extras.front().rfind('-', 0) == 0)
      std::cerr << "shoal: unknown option \"" << extras.front() << "\"\n";
    else
      std::cerr << "shoal: unknown command \"" << extras.front() << "\" (commands: " << names
                << ")\n";
  } else {
    hint = "shoal " + subs.back()->get_name() + " --help";
    std::cerr << "shoal: " << e.what() << "\n";
  }
  std::cerr << "Run `" << hint << "` for more information.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "shoal — an actor-model reactive streaming engine for trading signals.\n"
      "A strategy is a DAG of nodes on event time; outputs are published over ZeroMQ "
      "as MessagePack."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("shoal ") + SHOAL_VERSION);
  shoal::cli_result result;
  app.add_option("--log-level", result.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", result.log_format, "text (default) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  shoal::add_run_command(app, result);
  shoal::add_plan_command(app, result);
  shoal::add_tail_command(app, result);
  shoal::add_replay_command(app, result);
  shoal::add_parity_command(app, result);
  shoal::add_fabricate_command(app, result);
  shoal::add_export_command(app, result);
  shoal::add_import_command(app, result);
  shoal::add_manifest_command(app, result);
  shoal::add_build_command(app, result);
  shoal::add_explain_command(app, result);
  shoal::add_admin_command(app, result);
  shoal::add_keys_command(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  } catch (const std::exception& e) {
    // A command's own errors are reported by the command; this is the last line of defence
    // against an abort with "terminate called after throwing".
    std::cerr << "shoal: " << e.what() << "\n";
    return 1;
  }
  return result.exit_code;
}
