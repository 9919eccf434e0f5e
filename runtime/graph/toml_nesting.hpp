#pragma once
// A pre-scan of TOML text for nesting too deep to parse safely. toml11 3.7 recurses once per
// nested array or inline table (a few thousand levels overflow the stack: SIGSEGV) and takes
// quadratic time over long dotted keys, so a config is measured before toml11 sees it.

#include <cstddef>
#include <optional>
#include <string_view>

namespace shoal {

// Deeper than any config needs, far below what overflows the parser's stack.
inline constexpr std::size_t max_toml_nesting = 64;

// The 1-based line where TOML `text` first nests deeper than `limit`, counting open arrays,
// open inline tables, the parts of dotted keys and of [table] headers; nullopt when it never
// does. Strings and comments are skipped as TOML lexes them. Text that is not valid TOML is
// measured as far as it goes: the parser reports the syntax error.
std::optional<std::size_t> find_excess_nesting(std::string_view text,
                                               std::size_t limit = max_toml_nesting);

}  // namespace shoal
