#pragma once
// scratch_dir: a new temporary directory of this process alone (mkdtemp: an unpredictable name,
// mode 0700, so no other user can put anything there first or read what goes in), removed
// however the scope ends (a replay that throws included). For a config unpacked from a data dir
// or a recomputation's output.

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace shoal {

struct scratch_dir {
  std::filesystem::path path;
  // Made under the system's temporary directory, its name starting with `prefix`.
  explicit scratch_dir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("cannot make a scratch directory " + tmpl + ": " +
                               std::strerror(errno));
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

}  // namespace shoal
