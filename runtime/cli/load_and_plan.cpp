#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "actors/core/duration.hpp"
#include "actors/core/params.hpp"
#include "messages/utc_time.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

namespace {

// %j: the log message as a JSON string body (quotes, backslashes and controls escaped), so
// the JSON log format stays valid whatever a message contains.
class json_message_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (u < 0x20) {
        const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
        dest.append(esc, esc + 6);
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

}  // namespace

void init_logging(const cli_result& result) {
  auto logger = spdlog::stderr_color_mt("shoal");
  spdlog::set_default_logger(logger);
  if (result.log_format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<json_message_flag>('j').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%j"})");
    spdlog::set_formatter(std::move(f));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_level(spdlog::level::from_str(result.log_level));
}

bool parse_for_option(const std::string& text, std::int64_t& ns, cli_result& result) {
  ns = 0;
  if (text.empty()) return true;
  try {
    ns = parse_duration_ns(text);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "shoal: --for: " << e.what() << "\n";
    result.exit_code = 2;
    return false;
  }
}

std::optional<std::int64_t> parse_time_option(const std::string& name, const std::string& text,
                                              cli_result& result) {
  if (text.empty()) return std::nullopt;
  const auto t = parse_utc_time(text);
  if (!t) {
    std::cerr << "shoal: " << name << ": \"" << text
              << "\" is not a time (ns since the epoch, or ISO-8601 UTC such as "
                 "2026-01-01T00:00:01.5Z or 2026-01-01)\n";
    result.exit_code = 2;
  }
  return t;
}

bool check_data_dir(const std::string& dir, cli_result& result) {
  if (std::filesystem::is_directory(dir) && store::exists(dir)) return true;
  std::cerr << "shoal: " << dir << ": not a shoal data dir (no data.mdb)\n";
  result.exit_code = 2;
  return false;
}

bool check_output_path(const std::string& option, const std::string& path, bool is_dir,
                       cli_result& result) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st) || std::filesystem::is_directory(st) == is_dir) return true;
  std::cerr << "shoal: " << option << " " << path
            << (is_dir ? ": exists and is not a directory; give a directory"
                       : ": is a directory; give a file name")
            << "\n";
  result.exit_code = 2;
  return false;
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
