#pragma once
// mutated: a frame with a few random edits (a byte replaced, a byte inserted, or one erased), for
// tests that feed decoders near-valid frames. The bytes written come from the caller, so a test
// can bias them towards MessagePack headers.

#include <cstddef>
#include <random>
#include <string>

namespace shoal::testing {

template <class NextByte>
std::string mutated(std::string bytes, int edits, std::mt19937& rng, NextByte next_byte) {
  std::uniform_int_distribution<int> op(0, 2);
  for (; edits > 0 && !bytes.empty(); --edits) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng);
    switch (op(rng)) {
      case 0:
        bytes[at] = next_byte();
        break;
      case 1:
        bytes.insert(at, 1, next_byte());
        break;
      default:
        if (bytes.size() > 1) {
          bytes.erase(at, 1);
        }
    }
  }
  return bytes;
}

}  // namespace shoal::testing
