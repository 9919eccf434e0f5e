#include <catch2/catch.hpp>

#include "actors/core/kind_registry.hpp"
#include "runtime/graph/node_id.hpp"
#include "runtime/graph/plan.hpp"
#include "temp_files.hpp"

using namespace shoal;

namespace {

// Test kinds: one with two params, one with two ports.
class nil_kernel final : public kernel {
 public:
  Value compute(const kernel_input&) override { return Value{}; }
};

void register_test_kinds() {
  kind_info two;
  two.name = "test_two_params";
  two.normalize = [](const value_map& p) {
    param_reader r(p);
    r.get_int("a", 1, 0, 100);
    r.get_int("b", 2, 0, 100);
    return r.finish();
  };
  two.make = [](const value_map&, const kernel_context&) { return std::make_unique<nil_kernel>(); };
  register_kind(two);
  kind_info pair = two;
  pair.name = "test_pair";
  pair.ports = {"left", "right"};
  register_kind(pair);
}

const std::string source = R"(
[[source]]
name = "market"
kind = "fabricator"
seed = 1
assets = 3
)";

plan plan_of(const std::string& toml) {
  register_test_kinds();
  testing::temp_dir dir;
  return build_plan(load_config(dir.write("g.toml", source + toml)));
}

std::string id_of(const plan& p, const std::string& name) {
  return p.nodes.at(p.by_name.at(name)).id;
}

}  // namespace

TEST_CASE("NodeID is SHA-256 of the canonical msgpack identity (known answer)", "[node_id]") {
  // Expected value computed independently with Python's msgpack + hashlib:
  // sha256(msgpack.packb(dict(sorted({...}.items()))))
  node_identity n{"ema",          1, value_map{{"span", Value(10)}},
                  1'000'000'000,  1, on_missing::skip,
                  {{"in", "abc"}}};
  CHECK(compute_node_id(n) == "515fe338f4e629212dfa76d599cdaedcabc7e2152a62169cd83dd2109cbab9e1");
}

TEST_CASE("NodeID: params key order in the file does not matter", "[node_id]") {
  auto p1 = plan_of(R"(
[[node]]
name = "x"
kind = "test_two_params"
inputs = { in = "market.scan" }
params = { a = 3, b = 4 }
)");
  auto p2 = plan_of(R"(
[[node]]
name = "x"
kind = "test_two_params"
inputs = { in = "market.scan" }
params = { b = 4, a = 3 }
)");
  CHECK(id_of(p1, "x") == id_of(p2, "x"));
}

TEST_CASE("NodeID: defaults are hashed as if written out", "[node_id]") {
  auto p1 =
      plan_of("[[node]]\nname = \"z\"\nkind = \"zscore\"\ninputs = { in = \"market.scan\" }\n");
  auto p2 = plan_of(
      "[[node]]\nname = \"z\"\nkind = \"zscore\"\ninputs = { in = \"market.scan\" }\nparams = { "
      "window = 20 }\n");
  auto p3 = plan_of(
      "[[node]]\nname = \"z\"\nkind = \"zscore\"\ninputs = { in = \"market.scan\" }\nparams = { "
      "window = 21 }\n");
  CHECK(id_of(p1, "z") == id_of(p2, "z"));
  CHECK(id_of(p1, "z") != id_of(p3, "z"));
}

TEST_CASE("NodeID: names, tags and descriptions are not hashed", "[node_id]") {
  auto p1 = plan_of(R"(
[[node]]
name = "first"
kind = "ema"
inputs = { in = "market.scan" }
tags = ["fast"]
description = "one"
)");
  auto p2 = plan_of(R"(
[[node]]
name = "second"
kind = "ema"
inputs = { in = "market.scan" }
tags = ["slow", "other"]
)");
  CHECK(id_of(p1, "first") == id_of(p2, "second"));
}

TEST_CASE("NodeID: port order in the file does not matter", "[node_id]") {
  const std::string a = R"(
[[node]]
name = "l"
kind = "ema"
inputs = { in = "market.scan" }
[[node]]
name = "r"
kind = "log_return"
inputs = { in = "market.scan" }
)";
  auto p1 = plan_of(
      a +
      "[[node]]\nname = \"p\"\nkind = \"test_pair\"\ninputs = { left = \"l\", right = \"r\" }\n");
  auto p2 = plan_of(
      a +
      "[[node]]\nname = \"p\"\nkind = \"test_pair\"\ninputs = { right = \"r\", left = \"l\" }\n");
  auto p3 = plan_of(
      a +
      "[[node]]\nname = \"p\"\nkind = \"test_pair\"\ninputs = { left = \"r\", right = \"l\" }\n");
  CHECK(id_of(p1, "p") == id_of(p2, "p"));
  CHECK(id_of(p1, "p") != id_of(p3, "p"));  // swapping which upstream feeds which port does
}

TEST_CASE("NodeID is a Merkle hash: an upstream change reaches every downstream id and no other",
          "[node_id]") {
  auto graph = [](int span) {
    return plan_of(R"(
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "market.scan" }
[[node]]
name = "smooth"
kind = "ema"
inputs = { in = "ret" }
params = { span = )" +
                   std::to_string(span) + R"( }
[[node]]
name = "z"
kind = "zscore"
inputs = { in = "smooth" }
[[node]]
name = "z2"
kind = "zscore"
inputs = { in = "z" }
params = { window = 5 }
[[node]]
name = "side"
kind = "zscore"
inputs = { in = "ret" }
)");
  };
  auto a = graph(10), b = graph(11);
  for (const char* same : {"market.scan", "market.ob", "ret", "side"})
    CHECK(id_of(a, same) == id_of(b, same));
  for (const char* changed : {"smooth", "z", "z2"}) CHECK(id_of(a, changed) != id_of(b, changed));
}

TEST_CASE("NodeID: every id is 64 lowercase hex digits and streams differ by name", "[node_id]") {
  auto p = plan_of("");
  REQUIRE(p.nodes.size() == 2);
  for (const auto& n : p.nodes) {
    CHECK(n.id.size() == 64);
    CHECK(n.id.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  CHECK(id_of(p, "market.scan") != id_of(p, "market.ob"));
}
