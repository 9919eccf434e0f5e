#include <catch2/catch.hpp>

#include <set>

#include "actors/core/kind_code_hash.hpp"
#include "actors/core/kind_registry.hpp"

using namespace shoal;

TEST_CASE("every built-in kind carries the SHA-256 of its code, each its own", "[kinds]") {
  std::set<std::string> seen;
  for (const auto& name : kind_names()) {
    const kind_info* k = find_kind(name);
    REQUIRE(k);
    INFO(name);
    CHECK(k->code_hash.size() == 64);
    CHECK(k->code_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(k->code_hash);
  }
  CHECK(seen.size() == kind_names().size());
  CHECK(kind_code_hash("no_such_kind").empty());
}
