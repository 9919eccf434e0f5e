#pragma once
// How the CLI shows journal records (export, explain) and event times (manifest, explain).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "messages/journal_record.hpp"

namespace shoal {

// One record as a JSON object, keys as `shoal export --journal` prints them (README).
nlohmann::json journal_json(const journal_record& r);

// Event time (ns since the epoch) as a person reads it: 2026-01-01T00:00:00.000000000Z.
std::string utc_text(std::int64_t ns);

}  // namespace shoal
