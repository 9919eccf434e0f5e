#pragma once
// A CURVE key as text: 40 characters of ZeroMQ's Z85 alphabet (32 bytes). Here, not in
// runtime/transport, so that config checks it without linking ZeroMQ.

#include <string_view>

namespace shoal {

inline bool is_z85_key(std::string_view key) {
  constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (key.size() != 40) return false;
  for (char c : key)
    if (alphabet.find(c) == std::string_view::npos) return false;
  return true;
}

}  // namespace shoal
