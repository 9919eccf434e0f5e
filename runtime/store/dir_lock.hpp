#pragma once
// dir_lock: one engine per data dir. A writer (run, build, import, a replay's output dir) takes
// an exclusive flock on DIR/shoal.lock before opening LMDB and writes its pid there; a second
// writer fails at once with the holder's pid. The kernel drops the lock when the process ends,
// kill -9 included, so a stale lock file never blocks. Readers never take it.

#include <stdexcept>
#include <string>

namespace shoal {

class dir_locked : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class dir_lock {
 public:
  // Creates dir if needed. Throws dir_locked ("DIR is in use by shoal pid N …") when another
  // process holds it, std::runtime_error on other failures.
  explicit dir_lock(const std::string& dir);
  ~dir_lock();
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace shoal
