#pragma once
// kind_code_hash: the SHA-256 (hex) of a node kind's code — its folder actors/<kind>/ and
// actors/core/ — computed at build time (cmake/kind_code_hashes.cmake). A kind's version says
// its formula changed on purpose; its code hash says that any of its code changed at all, so a
// manifest (and build mode) can tell results of different code apart even at the same version.

#include <string_view>

namespace shoal {

// Empty for a folder with no kind (a kind registered by a test).
std::string_view kind_code_hash(std::string_view kind_folder);

}  // namespace shoal
