#include "runtime/cli/recorded_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "messages/msgpack_codec.hpp"

namespace shoal {
namespace fs = std::filesystem;

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

std::string pack_config_files(const config& cfg) {
  const fs::path main(cfg.path);
  value_map files;
  files.emplace(main.filename().string(), Value(read_file(main)));
  for (const auto& rel : cfg.engine.strategies)
    files.emplace(fs::path(rel).lexically_normal().string(),
                  Value(read_file(main.parent_path() / rel)));
  return to_msgpack(
      Value(value_map{{"main", Value(main.filename().string())}, {"files", Value(files)}}));
}

std::string unpack_config_files(const std::string& packed, const std::string& dir) {
  Value v = from_msgpack(packed);
  for (const auto& [rel, text] : v.find("files")->as_map()) {
    const fs::path p = fs::path(dir) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text.as_string();
  }
  return (fs::path(dir) / v.find("main")->as_string()).string();
}

}  // namespace shoal
