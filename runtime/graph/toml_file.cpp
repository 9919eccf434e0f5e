#include "runtime/graph/detail/toml_file.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "messages/utf8.hpp"
#include "runtime/graph/toml_nesting.hpp"

namespace shoal::detail {
namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error({path, 0}, "", "cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// toml11's message is a multi-line excerpt; its first line names the problem.
std::string first_line_of(const std::string& what) {
  std::string first = what.substr(0, what.find('\n'));
  if (first.rfind("[error] ", 0) == 0) first = first.substr(8);
  if (auto colon = first.find(": "); first.rfind("toml::", 0) == 0 && colon != std::string::npos)
    first = first.substr(colon + 2);
  return first;
}

}  // namespace

toml_file::toml_file(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  if (!std::filesystem::exists(status)) throw config_error({path_, 0}, "", "no such file");
  // A FIFO or a device would block or never end.
  if (!std::filesystem::is_regular_file(status))
    throw config_error({path_, 0}, "", "not a regular file");
  parse(read_whole(path_));
}

toml_file::toml_file(std::string origin, const std::string& text) : path_(std::move(origin)) {
  parse(text);
}

void toml_file::parse(const std::string& text) {
  // TOML is UTF-8, and toml11 reads out of bounds on some invalid sequences: refuse them first.
  if (auto bad = first_invalid_utf8(text)) {
    const auto line_start = text.rfind('\n', *bad == 0 ? 0 : *bad - 1);
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(
                                     text.begin(), text.begin() + static_cast<long>(*bad), '\n'));
    const std::size_t column =
        line_start == std::string::npos || *bad == 0 ? *bad + 1 : *bad - line_start;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[*bad]));
    throw config_error({path_, line}, "",
                       "not valid UTF-8 at column " + std::to_string(column) + " (byte " + hex +
                           "); a TOML file is UTF-8 text");
  }
  if (auto line = find_excess_nesting(text))
    throw config_error({path_, *line}, "",
                       "TOML nested deeper than " + std::to_string(max_toml_nesting) +
                           " levels (arrays, inline tables, dotted keys); flatten it");
  try {
    std::istringstream in(text);
    root_ = toml::parse(in, path_);
  } catch (const toml::syntax_error& e) {
    throw config_error({path_, e.location().line()}, "",
                       "TOML syntax error: " + first_line_of(e.what()));
  } catch (const std::exception& e) {
    throw config_error({path_, 0}, "", e.what());
  }
}

source_loc toml_file::loc(const toml::value& v) const {
  const auto* reg = dynamic_cast<const toml::detail::region*>(toml::detail::get_region(v));
  if (reg && reg->source())
    return {path_, line_at(*reg->source(), static_cast<std::size_t>(reg->first() - reg->begin()))};
  return {path_, v.location().line()};
}

std::size_t toml_file::line_at(const std::vector<char>& source, std::size_t offset) const {
  if (indexed_ != &source) {
    newlines_.clear();
    for (std::size_t i = 0; i < source.size(); ++i)
      if (source[i] == '\n') newlines_.push_back(i);
    indexed_ = &source;
  }
  return 1 + static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                                      newlines_.begin());
}

}  // namespace shoal::detail
