#include "messages/field_path.hpp"

namespace shoal {

std::string printable(std::string_view text, std::size_t max_len) {
  const bool cut = text.size() > max_len;
  if (cut) text = text.substr(0, max_len > 3 ? max_len - 3 : 0);
  std::string out;
  out.reserve(text.size() + 3);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (cut) out += "...";
  return out;
}

void field_path::append_to(std::string& out) const {
  if (parent_) parent_->append_to(out);
  if (is_index_) {
    out += '[';
    out += std::to_string(index_);
    out += ']';
    return;
  }
  if (key_.empty() && !parent_) return;  // the unnamed root
  if (!out.empty()) out += '.';
  out += printable(key_);
}

std::string field_path::str() const {
  std::string out;
  append_to(out);
  return out;
}

}  // namespace shoal
