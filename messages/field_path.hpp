#pragma once
// field_path: where a decoder is inside a nested value, kept as a chain of stack frames so
// that walking a frame builds no strings; the text ("payload.prices[3]") is rendered only
// when an error is actually thrown. A child refers to its parent, so a child must not
// outlive the parent it was made from (keep both as locals of nested calls).

#include <cstddef>
#include <string>
#include <string_view>

namespace shoal {

class field_path {
 public:
  // The root: renders as "" (errors about the frame as a whole).
  field_path() = default;
  // A named root, e.g. field_path("payload") so children render as "payload.x".
  explicit field_path(std::string_view name) : key_(name) {}

  field_path key(std::string_view k) const { return field_path(this, k, 0, false); }
  field_path index(std::size_t i) const { return field_path(this, {}, i, true); }

  // Nesting level: the root is 0, each key or index adds 1.
  std::size_t depth() const { return parent_ ? parent_->depth() + 1 : 0; }

  // "a.b[3].c". Keys are made printable and shortened (see printable()), because they come
  // from untrusted input and end up in logs and JSON replies.
  std::string str() const;

 private:
  field_path(const field_path* parent, std::string_view k, std::size_t i, bool is_index)
      : parent_(parent), key_(k), index_(i), is_index_(is_index) {}
  void append_to(std::string& out) const;

  const field_path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
  bool is_index_ = false;
};

// Untrusted text made safe for an error message: bytes outside printable ASCII become '?',
// and text longer than max_len is cut with "...". Keeps a hostile 1 MiB key or a stray
// control byte out of log lines and out of JSON (which requires valid UTF-8).
std::string printable(std::string_view text, std::size_t max_len = 64);

}  // namespace shoal
