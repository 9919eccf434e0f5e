#pragma once
// The graph the node_runner and node_host tests share: two streams, feed.a and feed.b, of one
// zmq source that never runs (the tests play the upstream nodes), then the node under test.

#include <memory>
#include <string>

#include "runtime/graph/plan.hpp"
#include "tests/unit/temp_files.hpp"

namespace shoal::testing {

inline std::shared_ptr<const plan> graph_with(const std::string& node) {
  temp_dir dir;
  auto path = dir.write("g.toml", R"(
[[source]]
name = "feed"
kind = "zmq"
connect = ["tcp://127.0.0.1:5999"]
[[source.stream]]
name = "a"
[[source.stream]]
name = "b"
)" + node);
  return std::make_shared<const plan>(build_plan(load_config(path)));
}

// A one-asset vector value {assets: ["A"], values: [x]}, as upstream nodes emit.
inline value_ptr vec(double x) {
  return make_value(Value(
      value_map{{"assets", Value(value_list{Value("A")})}, {"values", Value(f64_vector{x})}}));
}

}  // namespace shoal::testing
