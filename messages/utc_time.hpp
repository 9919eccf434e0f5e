#pragma once
// utc_time: event times (ns since the epoch, UTC) as ISO-8601 text and back, for people and the
// tools they load exports into. Never reads the clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal {

// 2026-01-01T00:00:00.250Z: the fraction only as far as it is not zero (ms, µs or ns).
std::string utc_time(std::int64_t ns);
// 2026-01-01T00:00:00.250000000Z: always nine digits (a column that sorts and parses alike).
std::string utc_time_ns(std::int64_t ns);

// Parses an integer (ns since the epoch) or ISO-8601 UTC: YYYY-MM-DD, optionally followed by
// THH:MM[:SS[.fraction of up to 9 digits]] and an optional Z. Anything else, or a time outside
// int64 ns (years 1678–2261), gives nullopt.
std::optional<std::int64_t> parse_utc_time(std::string_view text);

}  // namespace shoal
