#include "runtime/graph/toml_nesting.hpp"

#include <vector>

namespace shoal {
namespace {

// One pass over the text, knowing just enough of TOML's grammar to tell keys from values, and
// structure from string contents and comments. It never holds more than `limit` open
// containers: it stops at the first level too deep.
class nesting_scanner {
 public:
  nesting_scanner(std::string_view text, std::size_t limit) : s_(text), limit_(limit) {}

  std::optional<std::size_t> run() {
    while (i_ < s_.size() && !too_deep_) {
      const char c = s_[i_];
      if (c == '#') {
        skip_comment();
      } else if (c == '"' || c == '\'') {
        if (mode_ == mode::line_start) mode_ = mode::key;  // a quoted key
        skip_string(c);
      } else if (c == '\n') {
        ++line_;
        ++i_;
        if (open_.empty()) {
          mode_ = mode::line_start;
          key_dots_ = 0;
        }
      } else {
        ++i_;
        if (c != ' ' && c != '\t' && c != '\r') structural(c);
      }
    }
    if (too_deep_) return line_;
    return std::nullopt;
  }

 private:
  enum class mode { line_start, header, key, value };
  struct container {
    char open;          // '[' array or '{' inline table
    std::size_t depth;  // depth of the values inside it
  };

  void structural(char c) {
    switch (mode_) {
      case mode::line_start:
        if (c == '[') {
          mode_ = mode::header;
          table_depth_ = 1;
          header_closed_ = false;
          return;
        }
        mode_ = mode::key;
        return key(c);
      case mode::header:
        if (c == ']') header_closed_ = true;
        if (c == '.' && !header_closed_) check(++table_depth_);
        return;
      case mode::key:
        return key(c);
      case mode::value:
        return value(c);
    }
  }

  void key(char c) {
    if (c == '.') {
      check(base() + ++key_dots_);
    } else if (c == '=') {
      value_depth_ = base() + key_dots_;
      key_dots_ = 0;
      mode_ = mode::value;
    } else if (c == '}' || c == ']') {
      close();
    }
  }

  void value(char c) {
    if (c == '[' || c == '{') {
      value_depth_ += 1;
      check(value_depth_);
      open_.push_back({c, value_depth_});
      if (c == '{') mode_ = mode::key;
    } else if (c == ',' && !open_.empty() && open_.back().open == '{') {
      mode_ = mode::key;
    } else if (c == ']' || c == '}') {
      close();
    }
  }

  void close() {
    if (!open_.empty()) open_.pop_back();
    mode_ = mode::value;
    value_depth_ = base();
  }

  std::size_t base() const { return open_.empty() ? table_depth_ : open_.back().depth; }

  void check(std::size_t depth) {
    if (depth > limit_) too_deep_ = true;
  }

  void skip_comment() {
    while (i_ < s_.size() && s_[i_] != '\n') ++i_;
  }

  // Basic strings ("…", """…""") have backslash escapes, literal ones ('…', '''…''') do not;
  // a single-line string ends at the line's end even unterminated (the parser rejects it).
  void skip_string(char q) {
    const bool escapes = q == '"';
    const char triple[] = {q, q, q};
    if (s_.substr(i_, 3) == std::string_view(triple, 3)) {
      i_ += 3;
      while (i_ < s_.size()) {
        const char c = s_[i_];
        if (escapes && c == '\\') {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == '\n') ++line_;
          i_ += 2;
          continue;
        }
        if (c == '\n') ++line_;
        if (s_.substr(i_, 3) == std::string_view(triple, 3)) {
          i_ += 3;
          // Up to two more quotes belong to the string: """a""""" is `a""`.
          for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] == q; ++k) ++i_;
          return;
        }
        ++i_;
      }
      return;
    }
    ++i_;
    while (i_ < s_.size() && s_[i_] != '\n') {
      const char c = s_[i_++];
      if (c == q) return;
      if (escapes && c == '\\' && i_ < s_.size() && s_[i_] != '\n') ++i_;
    }
  }

  std::string_view s_;
  std::size_t limit_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
  mode mode_ = mode::line_start;
  std::size_t table_depth_ = 0;  // parts of the current [table] header
  bool header_closed_ = false;
  std::size_t key_dots_ = 0;     // dots so far in the key being read
  std::size_t value_depth_ = 0;  // depth of the value being read
  std::vector<container> open_;
  bool too_deep_ = false;
};

}  // namespace

std::optional<std::size_t> find_excess_nesting(std::string_view text, std::size_t limit) {
  return nesting_scanner(text, limit).run();
}

}  // namespace shoal
