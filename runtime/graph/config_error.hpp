#pragma once
// Where a declaration was written, and the one-line error that names it.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace shoal {

struct source_loc {
  std::string file;
  std::size_t line = 0;
};

// A config problem, always one line: "file:line: key: problem".
class config_error : public std::runtime_error {
 public:
  config_error(const source_loc& loc, const std::string& key, const std::string& problem);
  const source_loc& loc() const { return loc_; }

 private:
  source_loc loc_;
};

}  // namespace shoal
