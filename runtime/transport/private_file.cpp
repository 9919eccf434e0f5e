#include "runtime/transport/private_file.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

namespace shoal {

void require_private_file(const std::string& path, const std::string& noun) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": no such " + noun);
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error(path + ": a " + noun +
                             " must be the owner's alone, not open to group or others (mode " +
                             mode + "; chmod 600 " + path + ")");
  }
}

std::string read_private_line(const std::string& path, const std::string& noun) {
  require_private_file(path, noun);
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error(path + ": cannot read the " + noun);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw std::runtime_error(path + ": the " + noun + " is empty");
  return line;
}

}  // namespace shoal
