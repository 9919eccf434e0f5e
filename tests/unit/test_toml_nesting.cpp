// The TOML nesting pre-scan: what counts as a level, what does not (strings, comments), and
// the line it reports.
#include <catch2/catch.hpp>

#include <string>

#include "runtime/graph/toml_nesting.hpp"

using namespace shoal;

namespace {

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string nested_arrays(std::size_t depth) {
  return "a = " + repeat("[", depth) + repeat("]", depth) + "\n";
}

std::string nested_tables(std::size_t depth) {
  return "a = " + repeat("{ b = ", depth) + "1" + repeat(" }", depth) + "\n";
}

}  // namespace

TEST_CASE("nesting: arrays, inline tables and dotted keys count up to the limit", "[toml]") {
  CHECK_FALSE(find_excess_nesting(nested_arrays(4), 4));
  CHECK(find_excess_nesting(nested_arrays(5), 4) == 1u);
  CHECK_FALSE(find_excess_nesting(nested_tables(4), 4));
  CHECK(find_excess_nesting(nested_tables(5), 4) == 1u);
  // Each dotted part is a table: a.b.c.d.e = 1 is four tables deep.
  CHECK_FALSE(find_excess_nesting("a.b.c.d.e = 1\n", 4));
  CHECK(find_excess_nesting("a.b.c.d.e.f = 1\n", 4) == 1u);
  CHECK(find_excess_nesting("[a.b.c.d.e]\nx = 1\n", 4) == 1u);
  CHECK(find_excess_nesting("[[a.b.c]]\nx = { y = [1] }\n", 4) == 2u);
  // Depths add up across headers, dotted keys and values.
  CHECK_FALSE(find_excess_nesting("[a.b]\nc.d = [1]\n", 4));
  CHECK(find_excess_nesting("[a.b]\nc.d = [[1]]\n", 4) == 2u);
  // Siblings do not add up.
  CHECK_FALSE(find_excess_nesting("a = [[1], [2], [3], [4], [5], [6]]\n", 2));
  CHECK_FALSE(find_excess_nesting("a = { b = [1], c = { d = 2 }, e = [[3]] }\n", 3));
}

TEST_CASE("nesting: brackets in strings and comments are not structure", "[toml]") {
  const std::string deep = repeat("[{", 100);
  CHECK_FALSE(find_excess_nesting("a = \"" + deep + "\"\n", 4));
  CHECK_FALSE(find_excess_nesting("a = '" + deep + "'\n", 4));
  CHECK_FALSE(find_excess_nesting("a = \"\"\"\n" + deep + "\n\"\"\"\n", 4));
  CHECK_FALSE(find_excess_nesting("a = '''\n" + deep + "\n'''\n", 4));
  CHECK_FALSE(find_excess_nesting("# " + deep + "\na = 1 # " + deep + "\n", 4));
  CHECK_FALSE(find_excess_nesting("\"" + deep + "\" = 1\n", 4));  // a quoted key
  CHECK_FALSE(find_excess_nesting("\"a.b.c.d.e.f\" = 1\n", 4));   // one part, quoted
  // Escaped quotes do not end a basic string; a multi-line one may end in up to 5 quotes.
  CHECK_FALSE(find_excess_nesting("a = \"x\\\"" + deep + "\"\n", 4));
  CHECK_FALSE(find_excess_nesting("a = \"\"\"x\\\"\"\"" + deep + "\"\"\"\"\"\n", 4));
  CHECK(find_excess_nesting("a = \"\"\"x\"\"\"\"\" \nb = " + repeat("[", 5) + "\n", 4) == 2u);
  // Floats and dates have dots but are values, not keys.
  CHECK_FALSE(find_excess_nesting("a = [1.5, 2.25, 3.125, 1979-05-27T07:32:00.999Z]\n", 1));
}

TEST_CASE("nesting: the line reported is where the limit is passed", "[toml]") {
  CHECK(find_excess_nesting("x = 1\n# [[[[[[\ny = \"\"\"\n[[[[[[\n\"\"\"\nz = [\n [\n  [\n", 2) ==
        8u);
  CHECK(find_excess_nesting(nested_arrays(100000)) == 1u);
  CHECK(find_excess_nesting(nested_tables(100000)) == 1u);
  CHECK_FALSE(find_excess_nesting(nested_arrays(max_toml_nesting)));
  CHECK(find_excess_nesting(nested_arrays(max_toml_nesting + 1)) == 1u);
}
