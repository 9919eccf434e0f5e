#pragma once
// scratch_dir: a temporary directory removed however the scope ends (a replay that throws
// included), for a config unpacked from a data dir or a recomputation's output.

#include <filesystem>
#include <system_error>

namespace shoal {

struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(std::filesystem::path p) : path(std::move(p)) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

}  // namespace shoal
