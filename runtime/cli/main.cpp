// shoal: the command-line entry point. Each subcommand lives in its own file (cmd_*.cpp).
#include <CLI/CLI.hpp>

#include "runtime/cli/commands.hpp"

// jemalloc's options (read when the binary is linked with it, see CMakeLists.txt; unused
// otherwise): hand freed pages back to the kernel within a second instead of ten, so a long
// replay's resident memory stays flat instead of holding its peak.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}

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
  shoal::add_admin_command(app, result);
  CLI11_PARSE(app, argc, argv);
  return result.exit_code;
}
