#include <catch2/catch.hpp>

#include "actors/core/duration.hpp"
#include "actors/core/params.hpp"
#include "runtime/graph/plan.hpp"
#include "temp_files.hpp"

using namespace shoal;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

const std::string source = R"([[source]]
name = "market"
kind = "fabricator"
seed = 1
assets = 3
)";

// The config error message for TOML text written to g.toml (empty when it plans fine).
std::string error_of(const std::string& toml, std::string* file = nullptr) {
  testing::temp_dir dir;
  auto path = dir.write("g.toml", toml);
  if (file) *file = path;
  try {
    build_plan(load_config(path));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

std::string data(const std::string& rel) { return std::string(SHOAL_TEST_DATA) + "/" + rel; }

}  // namespace

TEST_CASE("a cycle is rejected and the error names the cycle", "[plan]") {
  const auto path = data("configs/cycle.toml");
  try {
    build_plan(load_config(path));
    FAIL("planned a cyclic graph");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, StartsWith(path + ":"));
    CHECK_THAT(msg, Contains("cycle: "));
    // Whichever node the search starts from, the three names appear in dependency order.
    CHECK((msg.find("a -> c -> b -> a") != std::string::npos ||
           msg.find("c -> b -> a -> c") != std::string::npos ||
           msg.find("b -> a -> c -> b") != std::string::npos));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("an unknown kind names file, line and key", "[plan]") {
  const auto path = data("configs/unknown_kind.toml");
  try {
    build_plan(load_config(path));
    FAIL("planned an unknown kind");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, StartsWith(path + ":"));
    CHECK_THAT(msg, Contains("node.mystery.kind: unknown kind \"frobnicate\""));
    CHECK(e.loc().line >= 9);
    CHECK(e.loc().line <= 12);
  }
}

TEST_CASE("an unknown source kind says what each kind is", "[plan]") {
  testing::temp_dir dir;
  const auto path = dir.write("bad.toml", "[[source]]\nname = \"feed\"\nkind = \"kafka\"\n");
  try {
    load_config(path);
    FAIL("loaded an unknown source kind");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Contains("unknown source kind \"kafka\""));
    CHECK_THAT(msg, Contains("zmq: a SUB socket"));
    CHECK_THAT(msg, Contains("journal: another data dir's journal"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("a TOML syntax error is one line naming file and line", "[plan]") {
  const auto path = data("configs/syntax_error.toml");
  try {
    load_config(path);
    FAIL("loaded a broken TOML file");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, StartsWith(path + ":"));
    CHECK_THAT(msg, Contains("TOML syntax error"));
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(e.loc().line >= 6);
  }
}

TEST_CASE("dangling inputs, duplicate names, bad durations, unknown keys and params", "[plan]") {
  std::string file;
  CHECK_THAT(
      error_of(source + "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = \"nope\" }\n",
               &file),
      Contains("node.x.inputs.in: unknown upstream \"nope\""));
  CHECK_THAT(
      error_of(source +
               "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = \"market.scan\" }\n"
               "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = \"market.scan\" }\n"),
      Contains("duplicate name \"x\""));
  CHECK_THAT(
      error_of("[[source]]\nname = \"m\"\nkind = \"fabricator\"\ninterval = \"5 parsecs\"\n"),
      Contains("source.interval: bad duration"));
  CHECK_THAT(error_of("[[source]]\nname = \"m\"\nkind = \"fabricator\"\ninterval = \"0s\"\n"),
             Contains("must be > 0"));
  CHECK_THAT(error_of(source + "[[node]]\nname = \"x\"\nkind = \"ema\"\ncolour = \"red\"\ninputs = "
                               "{ in = \"market.scan\" }\n"),
             Contains("node.x.colour: unknown key"));
  CHECK_THAT(error_of(source + "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = "
                               "\"market.scan\" }\nparams = { span = 0 }\n"),
             Contains("node.x.params.span: must be in [1,"));
  CHECK_THAT(error_of(source + "[[node]]\nname = \"x\"\nkind = \"zscore\"\ninputs = { in = "
                               "\"market.scan\" }\nparams = { windw = 3 }\n"),
             Contains("node.x.params.windw: unknown parameter"));
  CHECK_THAT(error_of(source + "[[node]]\nname = \"x\"\nkind = \"zscore\"\ninputs = { in = "
                               "\"market.scan\" }\nperiod = 3\n"),
             Contains("period 3 is less than the 20 that zscore needs"));
  CHECK_THAT(
      error_of(source +
               "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { inn = \"market.scan\" }\n"),
      Contains("needs input port \"in\""));
  // Every message starts with the file and a line number.
  auto msg = error_of(
      source + "[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = \"nope\" }\n", &file);
  CHECK_THAT(msg, StartsWith(file + ":"));
}

TEST_CASE("two strategies sharing 3 of 5 nodes plan to 7 distinct nodes, reuse 3/10", "[plan]") {
  plan p = build_plan(load_config(data("configs/shared/engine.toml")));
  CHECK(p.declared == 10);
  CHECK(p.distinct == 7);
  CHECK(p.reused() == 3);
  CHECK(p.stream_count() == 2);
  const auto& ret = p.nodes.at(p.by_name.at("alpha.ret"));
  CHECK(ret.names == std::vector<std::string>{"alpha.ret", "beta.returns"});
  CHECK(ret.strategies == std::vector<std::string>{"alpha", "beta"});
  CHECK(p.by_name.at("alpha.fast") == p.by_name.at("beta.quick"));
  CHECK(p.by_name.at("alpha.z") == p.by_name.at("beta.score"));
  CHECK(p.by_name.at("alpha.slow") != p.by_name.at("beta.slow"));
  CHECK(p.by_name.at("alpha.zz") != p.by_name.at("beta.zslow"));
  CHECK_THAT(plan_to_text(p), Contains("7 distinct nodes from 10 declared; reuse ratio 3/10"));
}

TEST_CASE("passes are topological and warm-up adds up along the path", "[plan]") {
  plan p =
      build_plan(load_config(std::string(SHOAL_SOURCE_DIR) + "/scenarios/quickstart/graph.toml"));
  auto node = [&](const char* n) -> const plan_node& { return p.nodes.at(p.by_name.at(n)); };
  CHECK(node("market.scan").pass == 0);
  CHECK(node("ret").pass == 1);
  CHECK(node("z").pass == 2);
  CHECK(node("ema").pass == 2);
  CHECK(node("ret").warmup == 1);
  CHECK(node("z").warmup == 20);
  CHECK(node("ema").warmup == 1);
  for (const auto& n : p.nodes)
    for (const auto& in : n.inputs) CHECK(p.nodes[in.upstream].pass < n.pass);
}

TEST_CASE("tag queries resolve to exactly one node", "[plan]") {
  const std::string base = source + R"(
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "market.scan" }
tags = ["returns", "daily"]
[[node]]
name = "smooth"
kind = "ema"
inputs = { in = "market.scan" }
tags = ["daily"]
)";
  testing::temp_dir dir;
  auto ok = dir.write("ok.toml", base +
                                     "[[node]]\nname = \"z\"\nkind = \"zscore\"\ninputs = { in = { "
                                     "tags = [\"returns\", \"daily\"], match = \"all\" } }\n");
  plan p = build_plan(load_config(ok));
  CHECK(p.nodes.at(p.by_name.at("z")).inputs.at(0).upstream == p.by_name.at("ret"));
  CHECK_THAT(
      error_of(
          base +
          "[[node]]\nname = \"z\"\nkind = \"zscore\"\ninputs = { in = { tags = [\"daily\"] } }\n"),
      Contains("matched 2 nodes (ret, smooth)"));
}

TEST_CASE("plan --dot is a digraph with one edge per input", "[plan]") {
  plan p =
      build_plan(load_config(std::string(SHOAL_SOURCE_DIR) + "/scenarios/quickstart/graph.toml"));
  const std::string dot = plan_to_dot(p);
  CHECK_THAT(dot, StartsWith("digraph shoal {"));
  std::size_t edges = 0;
  for (std::size_t pos = 0; (pos = dot.find(" -> ", pos)) != std::string::npos; ++pos) ++edges;
  CHECK(edges == 3);
  // Graphviz breaks a label's lines at \n; an escaped backslash would show "\n" literally.
  CHECK_THAT(dot, Contains("[label=\"ret\\nlog_return  "));
  CHECK(dot.find("\\\\n") == std::string::npos);
}

TEST_CASE("durations: units, decimals and errors", "[plan]") {
  CHECK(parse_duration_ns("1s") == 1'000'000'000);
  CHECK(parse_duration_ns("250ms") == 250'000'000);
  CHECK(parse_duration_ns("0.5s") == 500'000'000);
  CHECK(parse_duration_ns("1.25m") == 75'000'000'000);
  CHECK(parse_duration_ns("0.1s") == 100'000'000);
  CHECK(parse_duration_ns("2d") == 172'800'000'000'000);
  CHECK(format_duration_ns(90'000'000'000) == "90s");
  CHECK(format_duration_ns(60'000'000'000) == "1m");
  CHECK_THROWS_WITH(parse_duration_ns("1.5ns"), Contains("whole number of nanoseconds"));
  CHECK_THROWS_WITH(parse_duration_ns("0s"), Contains("must be > 0"));
  CHECK_THROWS_WITH(parse_duration_ns("5 parsecs"), Contains("unit must be"));
  CHECK_THROWS_WITH(parse_duration_ns("s"), Contains("expected a number"));
  CHECK_THROWS_WITH(parse_duration_ns("99999999999d"), Contains("too large"));
}

TEST_CASE("engine endpoints: a bad publish_tracked, a mirror binding its primary's endpoint",
          "[plan]") {
  CHECK_THAT(error_of("[engine]\npublish_tracked = \"nope\"\n" + source),
             Contains("engine.publish_tracked: \"nope\" is not a ZeroMQ endpoint"));
  testing::temp_dir dir;
  dir.write("primary.toml",
            "[engine]\npublish = \"tcp://127.0.0.1:7001\"\n"
            "publish_tracked = \"tcp://127.0.0.1:7002\"\n" +
                source);
  const std::string mirror_engine =
      "[engine]\nmirrors = \"primary.toml\"\npublish = \"tcp://127.0.0.1:7003\"\n";
  const std::string mirror_source =
      "[[source]]\nname = \"feed\"\nkind = \"fabricator\"\nseed = 1\nassets = 3\n";
  CHECK_NOTHROW(build_plan(load_config(dir.write("ok.toml", mirror_engine + mirror_source))));
  for (const char* key : {"publish_tracked", "snapshot"}) {
    const auto path =
        dir.write("m.toml", mirror_engine + key + " = \"tcp://127.0.0.1:7002\"\n" + mirror_source);
    try {
      build_plan(load_config(path));
      FAIL("a mirror may not bind its primary's endpoint (" << key << ")");
    } catch (const config_error& e) {
      CHECK_THAT(e.what(), Contains(std::string("engine.") + key +
                                    ": \"tcp://127.0.0.1:7002\" is an endpoint of the engine "
                                    "this config mirrors"));
    }
  }
}

TEST_CASE("a fabricator with books = false has only its scan stream", "[plan]") {
  testing::temp_dir dir;
  const auto with = build_plan(load_config(dir.write("a.toml", source)));
  const auto without = build_plan(load_config(dir.write("b.toml", source + "books = false\n")));
  CHECK(with.by_name.count("market.ob") == 1);
  CHECK(without.by_name.count("market.ob") == 0);
  CHECK(without.by_name.count("market.scan") == 1);
  // Saying books = true changes nothing, NodeIDs included.
  const auto same = build_plan(load_config(dir.write("c.toml", source + "books = true\n")));
  CHECK(same.graph_hash == with.graph_hash);
  CHECK(without.graph_hash != with.graph_hash);
  CHECK_THAT(error_of(source + "books = \"no\"\n"),
             Contains("source.books: must be true or false"));
}

TEST_CASE("a mirror loop is a config error, whatever its length or spelling", "[plan]") {
  testing::temp_dir dir;
  // Each config has its own source, so no mirror publishes on its primary's topics.
  auto engine = [](const std::string& mirrors, int port) {
    return "[engine]\npublish = \"tcp://127.0.0.1:" + std::to_string(port) + "\"\nmirrors = \"" +
           mirrors + "\"\n[[source]]\nname = \"feed" + std::to_string(port) +
           "\"\nkind = \"fabricator\"\n";
  };
  auto error_planning = [&](const std::string& path) -> std::string {
    try {
      build_plan(load_config(path));
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  };
  const auto self = dir.write("self.toml", engine("self.toml", 7101));
  CHECK(error_planning(self) ==
        self + ":3: engine.mirrors: mirror loop: " + self + " -> " + self +
            " (a chain of mirrors must end at an engine that mirrors nothing)");
  // Through a symlink it is the same file.
  const auto target = dir.write("target.toml", engine("link.toml", 7102));
  std::filesystem::create_symlink(target, dir.path() / "link.toml");
  CHECK_THAT(error_planning(target), Contains("mirror loop: " + target + " -> "));

  const auto a = dir.write("a.toml", engine("b.toml", 7103));
  const auto b = dir.write("b.toml", engine("c.toml", 7104));
  const auto c = dir.write("c.toml", engine("a.toml", 7105));
  const std::string loop = "mirror loop: " + a + " -> " + b + " -> " + c + " -> " + a;
  CHECK_THAT(error_planning(a), StartsWith(c + ":3: engine.mirrors: " + loop));

  // A chain that ends is fine: c mirrors a primary that mirrors nothing.
  dir.write("c.toml", engine("primary.toml", 7105));
  dir.write("primary.toml",
            "[engine]\npublish = \"tcp://127.0.0.1:7106\"\n[[source]]\nname = \"market\"\n"
            "kind = \"fabricator\"\n");
  CHECK(error_planning(a).empty());
}

TEST_CASE("engine listeners: real ports, loopback only, one listener per address", "[plan]") {
  const std::string token = "admin_token = \"0123456789abcdef\"\n";
  std::string file;
  std::string msg =
      error_of("[engine]\n" + token + "admin_tcp = \"127.0.0.1:99999\"\n" + source, &file);
  CHECK(msg == file + ":3: engine.admin_tcp: \"127.0.0.1:99999\": port 99999 is outside 1..65535");
  CHECK_THAT(error_of("[engine]\n" + token + "admin_tcp = \"127.0.0.1:abc\"\n" + source),
             Contains("engine.admin_tcp: \"127.0.0.1:abc\": port \"abc\" is not a number"));
  CHECK_THAT(error_of("[engine]\n" + token + "admin_tcp = \":\"\n" + source),
             Contains("engine.admin_tcp: \":\" is not a loopback HOST:PORT"));
  CHECK_THAT(error_of("[engine]\nmetrics_http = \"127.0.0.1:\"\n" + source),
             Contains("engine.metrics_http: \"127.0.0.1:\": no port after ':'"));
  CHECK_THAT(error_of("[engine]\nmetrics_http = \"127.999.0.1:9464\"\n" + source),
             Contains("engine.metrics_http: \"127.999.0.1:9464\" is not a loopback HOST:PORT"));
  CHECK_THAT(error_of("[engine]\npublish = \"tcp://127.0.0.1:70000\"\n" + source),
             Contains("engine.publish: \"tcp://127.0.0.1:70000\": port 70000 is outside"));
  // Two listeners on one address: the second bind would fail when the engine starts.
  msg = error_of(
      "[engine]\npublish = \"tcp://127.0.0.1:7001\"\n\nsnapshot = \"tcp://127.0.0.1:7001\"\n" +
          source,
      &file);
  CHECK(msg == file +
                   ":4: engine.snapshot: \"tcp://127.0.0.1:7001\" is the address of engine.publish "
                   "(\"tcp://127.0.0.1:7001\"); each listener needs its own");
  CHECK_THAT(
      error_of("[engine]\n" + token +
               "admin_tcp = \"127.0.0.1:7070\"\nmetrics_http = \"127.0.0.1:7070\"\n" + source),
      Contains("engine.metrics_http: \"127.0.0.1:7070\" is the address of engine.admin_tcp"));
  // The default publish endpoint counts too.
  CHECK_THAT(error_of("[engine]\nmetrics_http = \"127.0.0.1:5556\"\n" + source),
             Contains("is the address of engine.publish (\"tcp://127.0.0.1:5556\")"));
  CHECK_THAT(error_of("[engine]\npublish = \"tcp://*:7001\"\nmetrics_http = \"127.0.0.1:7001\"\n" +
                      source),
             Contains("engine.metrics_http"));
  CHECK(error_of("[engine]\npublish = \"tcp://127.0.0.1:*\"\nsnapshot = \"tcp://127.0.0.1:*\"\n" +
                 token + "admin_tcp = \"127.0.0.1:7070\"\nmetrics_http = \"127.0.0.1:7071\"\n" +
                 source)
            .empty());
  // A zmq source connects: no wildcard host or port.
  CHECK_THAT(error_of("[[source]]\nname = \"feed\"\nkind = \"zmq\"\nconnect = \"tcp://*:7001\"\n"
                      "[[source.stream]]\nname = \"s\"\n"),
             Contains("source.connect: \"tcp://*:7001\": connecting needs a host, not *"));
  CHECK_THAT(error_of("[[source]]\nname = \"feed\"\nkind = \"zmq\"\nconnect = "
                      "\"tcp://127.0.0.1:65536\"\n[[source.stream]]\nname = \"s\"\n"),
             Contains("port 65536 is outside 1..65535"));
}

TEST_CASE("deep TOML nesting and files that are not files are config errors", "[plan]") {
  std::string file;
  const std::string msg = error_of(source +
                                       "\n[[node]]\nname = \"x\"\nkind = \"ema\"\ninputs = { in = "
                                       "\"market.scan\" }\nparams = { span = " +
                                       std::string(5000, '[') + std::string(5000, ']') + " }\n",
                                   &file);
  CHECK(msg == file +
                   ":11: TOML nested deeper than 64 levels (arrays, inline tables, dotted keys); "
                   "flatten it");
  testing::temp_dir dir;
  CHECK_THROWS_WITH(load_config(dir.path().string()), EndsWith(": not a regular file"));
  CHECK_THROWS_WITH(load_config((dir.path() / "none.toml").string()), EndsWith(": no such file"));
}

TEST_CASE("a config of 4,000 nodes plans, its lines right to the end", "[plan]") {
  // Chains of 40: an ema on the scan, a log_return, 18 emas in a row, 20 emas fanning out.
  std::string text = source;
  for (int i = 0; i < 4000; ++i) {
    const int chain = i / 40, k = i % 40;
    const std::string name = "n" + std::to_string(i);
    if (k == 0)
      text += "[[node]]\nname = \"" + name +
              "\"\nkind = \"ema\"\ninputs = { in = \"market.scan\" }\nparams = { span = " +
              std::to_string(chain + 2) + " }\n";
    else if (k == 1)
      text += "[[node]]\nname = \"" + name + "\"\nkind = \"log_return\"\ninputs = { in = \"n" +
              std::to_string(i - 1) + "\" }\n";
    else
      text += "[[node]]\nname = \"" + name + "\"\nkind = \"ema\"\ninputs = { in = \"n" +
              std::to_string(k < 20 ? i - 1 : i - k + 1) +
              "\" }\nparams = { span = " + std::to_string(k) + " }\n";
  }
  testing::temp_dir dir;
  const auto path = dir.write("big.toml", text);
  const plan p = build_plan(load_config(path));
  CHECK(p.declared == 4000);
  CHECK(p.distinct == 4000);
  CHECK(p.nodes.at(p.by_name.at("n19")).pass == 20);
  CHECK(p.nodes.at(p.by_name.at("n3999")).pass == 3);
  CHECK(p.nodes.at(p.by_name.at("n3999")).inputs.at(0).upstream == p.by_name.at("n3961"));
  // Lines are counted right at the end of a large file.
  const std::size_t lines = std::count(text.begin(), text.end(), '\n');
  const auto bad = dir.write("bad.toml", text + "[[node]]\nname = \"last\"\nkind = \"nope\"\n");
  try {
    build_plan(load_config(bad));
    FAIL("planned an unknown kind");
  } catch (const config_error& e) {
    CHECK(e.loc().line == lines + 1);
  }
}

TEST_CASE("with_upstreams marks every node upstream of the marked ones, and nothing else",
          "[plan]") {
  testing::temp_dir dir;
  const auto path = dir.write("g.toml", source + R"(
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "market.scan" }

[[node]]
name = "fast"
kind = "ema"
inputs = { in = "ret" }
params = { span = 5 }

[[node]]
name = "zf"
kind = "zscore"
inputs = { in = "fast" }
params = { window = 10 }

[[node]]
name = "slow"
kind = "ema"
inputs = { in = "ret" }
params = { span = 30 }
)");
  const plan p = build_plan(load_config(path));
  auto marked = [&](std::vector<std::string> names) {
    std::vector<bool> v(p.nodes.size());
    for (const auto& n : names) v[p.by_name.at(n)] = true;
    return v;
  };
  CHECK(with_upstreams(p, marked({"zf"})) == marked({"zf", "fast", "ret", "market.scan"}));
  CHECK(with_upstreams(p, marked({"slow"})) == marked({"slow", "ret", "market.scan"}));
  CHECK(with_upstreams(p, marked({"market.scan"})) == marked({"market.scan"}));
  CHECK(with_upstreams(p, marked({})) == marked({}));
}
