#include "runtime/store/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace shoal {

dir_lock::dir_lock(const std::string& dir) {
  if (std::filesystem::create_directories(dir))
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  const std::string path = (std::filesystem::path(dir) / "shoal.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const auto n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw std::runtime_error(path + ": cannot lock: " + std::strerror(err));
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw dir_locked(dir + " is in use by another shoal engine (pid " + pid +
                     "); stop it first or choose another data dir");
  }
  const std::string mine = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, mine.data(), mine.size(), 0) < 0) {
    // The lock holds without the pid; only the message of a second writer would lack it.
  }
}

dir_lock::~dir_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace shoal
