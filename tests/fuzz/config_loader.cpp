// libFuzzer target: the TOML config loader (load_config) and planning (build_plan), the path
// from an operator's file to the DAG that runs. Each input is written to config.toml in a
// private temp dir (on /dev/shm when there is one) that also holds a valid strategy file and a
// valid engine config, so inputs can list `strategies = ["strategy.toml"]` or
// `mirrors = "peer.toml"` (or themselves).
//
// Checked beyond "no crash, no UB, no leak": loading and planning throw nothing but
// config_error (a deeply nested TOML included).

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "runtime/graph/config.hpp"
#include "runtime/graph/plan.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view strategy_toml = R"([strategy]
name = "s"

[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "market.scan" }
)";

constexpr std::string_view peer_toml = R"([engine]
name = "peer"
publish = "tcp://127.0.0.1:7556"

[[source]]
name = "market"
kind = "fabricator"
seed = 1
assets = 3
interval = "1s"
)";

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

struct scratch_dir {
  fs::path dir;
  fs::path config;

  scratch_dir() {
    const char* base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = std::string(base) + "/shoal-fuzz-config-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::abort();
    }
    dir = pattern;
    config = dir / "config.toml";
    write_file(dir / "strategy.toml", strategy_toml);
    write_file(dir / "peer.toml", peer_toml);
  }
  ~scratch_dir() {
    std::error_code ignore;
    fs::remove_all(dir, ignore);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static scratch_dir scratch;
  write_file(scratch.config, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const shoal::config cfg = shoal::load_config(scratch.config.string());
    const shoal::plan p = shoal::build_plan(cfg);
    (void)shoal::plan_to_text(p);
    (void)shoal::plan_to_dot(p);
  } catch (const shoal::config_error&) {
  }
  return 0;
}
