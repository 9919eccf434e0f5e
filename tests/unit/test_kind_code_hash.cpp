#include <catch2/catch.hpp>

#include <set>

#include "actors/builtin_kinds.hpp"
#include "actors/core/kind_code_hash.hpp"
#include "actors/core/kind_registry.hpp"

using namespace shoal;

TEST_CASE("every built-in kind carries the SHA-256 of its code, each its own", "[kinds]") {
  // The built-in kinds, as the registry has them: other tests in this process register kinds
  // of their own (without a code hash), and must not have replaced a built-in one.
  std::set<std::string> seen;
  const auto builtin = builtin_kinds();
  for (const auto& b : builtin) {
    const kind_info* k = find_kind(b.name);
    REQUIRE(k);
    INFO(b.name);
    CHECK(k->code_hash == b.code_hash);
    CHECK(k->code_hash.size() == 64);
    CHECK(k->code_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(k->code_hash);
  }
  CHECK(seen.size() == builtin.size());
  CHECK(builtin.size() >= 16);
  CHECK(kind_code_hash("no_such_kind").empty());
}
