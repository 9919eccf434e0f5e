#pragma once
// One TOML file of a config, parsed, with the line of any value in it. Private to
// runtime/graph (it brings in toml11).

#include <string>
#include <toml.hpp>
#include <vector>

#include "runtime/graph/config.hpp"

namespace shoal::detail {

class toml_file {
 public:
  // Reads and parses PATH; throws config_error (missing or not a regular file, nesting too
  // deep, TOML syntax) naming the file and line.
  explicit toml_file(std::string path);
  // Parses TEXT that did not come from a file (a strategy submitted inline); `origin` names it
  // in errors in place of a path.
  toml_file(std::string origin, const std::string& text);

  const std::string& path() const { return path_; }
  const toml::value& root() const { return root_; }

  // Where `v` (a value of this file) was written.
  source_loc loc(const toml::value& v) const;

 private:
  void parse(const std::string& text);
  std::size_t line_at(const std::vector<char>& source, std::size_t offset) const;

  std::string path_;
  toml::value root_;
  // Offsets of the '\n's in the parsed text, built on first use: toml11's own
  // location().line() counts newlines from the start of the file on every call, which made
  // loading quadratic in the number of nodes.
  mutable const std::vector<char>* indexed_ = nullptr;
  mutable std::vector<std::size_t> newlines_;
};

}  // namespace shoal::detail
