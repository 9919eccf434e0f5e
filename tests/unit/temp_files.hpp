#pragma once
// Temporary config files for graph tests: each test writes its TOML into a fresh directory.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace shoal::testing {

class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("shoal-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace shoal::testing
