#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "runtime/cli/commands.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

void init_logging(const cli_result& result) {
  auto logger = spdlog::stderr_color_mt("shoal");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(result.log_level));
}

bool load_and_plan(const std::string& path, config& cfg, plan& p, cli_result& result,
                   bool for_replay) {
  try {
    cfg = load_config(path);
    if (for_replay) cfg.engine.mirrors.clear();
    p = build_plan(cfg);
    return true;
  } catch (const config_error& e) {
    std::cerr << "shoal: config error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "shoal: config error: " << path << ":0: " << e.what() << "\n";
  }
  result.exit_code = 2;
  return false;
}

}  // namespace shoal
