#pragma once
// Durations as configs write them ("500ms", "1.5s", "2m"), in integer nanoseconds: kernel
// params, node intervals and engine settings all read them through here.

#include <cstdint>
#include <string>
#include <string_view>

namespace shoal {

// Parses "1s", "500ms", "250us", "10ns", "2m", "1h", "1d"; throws std::invalid_argument.
std::int64_t parse_duration_ns(std::string_view text);
std::string format_duration_ns(std::int64_t ns);

}  // namespace shoal
