#pragma once
// Lowercase hex of bytes, and back: NodeIDs, digests and routing ids are shown this way.

#include <string>
#include <string_view>

namespace shoal {

std::string to_hex(std::string_view bytes);
// Throws std::invalid_argument on an odd length or a character outside [0-9a-fA-F].
std::string from_hex(std::string_view hex);

}  // namespace shoal
