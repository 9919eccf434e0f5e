#pragma once
// The fabricator's settings and their defaults: one place for a [[source]] of kind fabricator
// and for `shoal fabricate`, so both make the same data and the same NodeIDs.

#include <cstdint>

#include "messages/value.hpp"

namespace shoal {

struct fabricator_settings {
  std::int64_t seed = 42;
  std::int64_t assets = 12;            // [1, 1000]
  std::int64_t levels = 5;             // order-book depth, [1, 50]
  std::int64_t start = 1'767'225'600;  // unix seconds of bucket 0: 2026-01-01T00:00:00Z
  bool books = true;                   // false: scans only (the same scans)

  // The params hashed into the streams' NodeIDs. `books` appears only when false, so configs
  // that do not say it keep their NodeIDs.
  value_map params() const;
};

}  // namespace shoal
