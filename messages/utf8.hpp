#pragma once
// UTF-8 validation (RFC 3629): what text formats that must be UTF-8 (TOML configs) are checked
// with before a parser sees them. toml11 3.7 reads past the end of its buffer on some invalid
// sequences inside strings (found by the config_loader fuzz target), so shoal refuses them first.

#include <cstddef>
#include <optional>
#include <string_view>

namespace shoal {

// The byte offset of the first byte that does not start a well-formed UTF-8 sequence (a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate, or a code point above
// U+10FFFF); nullopt when all of `s` is valid UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);

}  // namespace shoal
