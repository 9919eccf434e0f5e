#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "messages/shared_lists.hpp"
#include "messages/tidy_rows.hpp"

using namespace shoal;

namespace {

using row = std::tuple<std::optional<std::string>, std::string, Value>;

std::vector<row> rows(const Value& v) {
  std::vector<row> out;
  for_each_tidy_row(v, [&](const std::string* asset, const std::string& field, const Value& x) {
    out.emplace_back(asset ? std::optional<std::string>(*asset) : std::nullopt, field, x);
  });
  return out;
}

}  // namespace

TEST_CASE("tidy rows: a scalar is one row named value", "[tidy_rows]") {
  CHECK(rows(Value(1.5)) == std::vector<row>{{std::nullopt, "value", Value(1.5)}});
  CHECK(rows(Value()) == std::vector<row>{{std::nullopt, "value", Value()}});
}

TEST_CASE("tidy rows: a vector output gives one row per asset", "[tidy_rows]") {
  const Value v(value_map{{"assets", value_list{"A", "B"}},
                          {"values", f64_vector{1.0, 2.0}},
                          {"n", Value(std::int64_t{2})},
                          {"flags", value_list{true}}});  // not per asset: one value
  CHECK(rows(v) == std::vector<row>{{std::nullopt, "flags", Value(value_list{true})},
                                    {std::nullopt, "n", Value(std::int64_t{2})},
                                    {"A", "values", Value(1.0)},
                                    {"B", "values", Value(2.0)}});
  // A shared (interned) asset list is the same list.
  const Value shared(value_map{
      {"assets",
       Value(intern_name_list(2, [](std::size_t i) { return std::string_view(i ? "B" : "A"); }))},
      {"values", value_list{Value(1.0), Value(2.0)}}});
  CHECK(rows(shared) == std::vector<row>{{"A", "values", Value(1.0)}, {"B", "values", Value(2.0)}});
}

TEST_CASE("tidy rows: other maps flatten with dotted names", "[tidy_rows]") {
  const Value v(value_map{{"posture", Value("long")},
                          {"book", value_map{{"bid", Value(1.0)}, {"ask", Value(2.0)}}}});
  CHECK(rows(v) == std::vector<row>{{std::nullopt, "book.ask", Value(2.0)},
                                    {std::nullopt, "book.bid", Value(1.0)},
                                    {std::nullopt, "posture", Value("long")}});
}
