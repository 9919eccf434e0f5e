// The defaults written in config/ are the code's: config/engine.toml states every [engine]
// default and config/sources/*.toml each source kind's, so a default changed in the code
// without the file (or the other way round) fails here. The keys shown commented out (with an
// example value) must load too, so the examples cannot rot.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "runtime/graph/config.hpp"
#include "runtime/graph/detail/engine_section.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/sources/fabricator_config.hpp"
#include "tests/unit/temp_files.hpp"

using namespace shoal;

namespace {

const std::string config_dir = std::string(SHOAL_SOURCE_DIR) + "/config";

std::string read(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The file with its commented-out keys ("# key = value  # comment") switched on.
std::string uncommented(const std::string& text) {
  static const std::regex key(R"(^# ([a-z_]+ = ))");
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    out += std::regex_replace(line, key, "$1") + "\n";
  }
  return out;
}

// A file of config/ (path relative to it) loaded with its commented-out keys switched on.
config load_uncommented(const std::string& file) {
  testing::temp_dir dir;
  return load_config(dir.write("uncommented.toml", uncommented(read(config_dir + "/" + file))));
}

}  // namespace

TEST_CASE("config/engine.toml states every [engine] default the code uses", "[config]") {
  const config c = load_config(config_dir + "/engine.toml");
  const engine_decl d;  // the code's defaults
  const engine_decl& f = c.engine;
  CHECK(f.name == d.name);
  CHECK(f.publish == d.publish);
  CHECK(f.publish_hwm == d.publish_hwm);
  CHECK(f.publish_tracked == d.publish_tracked);
  CHECK(f.snapshot == d.snapshot);
  CHECK(f.data_dir == d.data_dir);
  CHECK(f.commit_records == d.commit_records);
  CHECK(f.commit_ms == d.commit_ms);
  CHECK(f.publish_after_commit == d.publish_after_commit);
  CHECK(f.reject_keep_bytes == d.reject_keep_bytes);
  CHECK(f.idle_spin_us == d.idle_spin_us);
  CHECK(f.workers == d.workers);
  CHECK(f.admin == d.admin);
  CHECK(f.admin_tcp == d.admin_tcp);
  CHECK(f.admin_token == d.admin_token);
  CHECK(f.metrics_http == d.metrics_http);
  CHECK(f.admin_idle_timeout_ns == d.admin_idle_timeout_ns);
  CHECK(f.metrics_idle_timeout_ns == d.metrics_idle_timeout_ns);
  CHECK(f.strategies == d.strategies);
  CHECK(f.mirrors == d.mirrors);
  // Every key with a default is written out, not left to the reader to guess.
  for (const char* key : {"name", "publish", "publish_hwm", "data", "commit_records", "commit_ms",
                          "publish_after_commit", "reject_keep_bytes", "workers", "idle_spin_us",
                          "admin_idle_timeout", "metrics_idle_timeout", "strategies"}) {
    INFO(key);
    CHECK(f.key_locs.count(key) == 1);
  }
}

TEST_CASE("[engine] idle_spin_us is at most a second and workers at least one", "[config]") {
  testing::temp_dir dir;
  auto load = [&](const std::string& spin) {
    return load_config(
        dir.write("c.toml", "[engine]\nname = \"e\"\nidle_spin_us = " + spin + "\n"));
  };
  CHECK(load("200").engine.idle_spin_us == 200);
  CHECK(load("1000000").engine.idle_spin_us == 1'000'000);
  CHECK_THROWS_WITH(load("1000001"),
                    Catch::Contains("engine.idle_spin_us") && Catch::Contains("[0, 1000000]"));
  CHECK_THROWS_WITH(load("-1"), Catch::Contains("engine.idle_spin_us"));
  CHECK_THROWS_WITH(load("\"5ms\""), Catch::Contains("engine.idle_spin_us"));
  auto workers = [&](const std::string& n) {
    return load_config(dir.write("w.toml", "[engine]\nname = \"e\"\nworkers = " + n + "\n"));
  };
  CHECK(workers("1").engine.workers == 1);
  CHECK_THROWS_WITH(workers("0"), Catch::Contains("engine.workers") && Catch::Contains("[1, 256]"));
}

TEST_CASE("config/engine.toml lists every key the [engine] parser accepts", "[config]") {
  const std::string text = read(config_dir + "/engine.toml");
  const auto keys = detail::engine_section_keys();
  CHECK(keys.size() >= 18);
  for (const auto& key : keys) {
    INFO(key);
    // Set ("key = ...") or shown commented out ("# key = ..."), at the start of a line.
    CHECK(std::regex_search(text, std::regex("(^|\\n)(# )?" + key + " = ")));
  }
}

TEST_CASE("config/engine.toml's commented examples are valid keys and values", "[config]") {
  const config c = load_uncommented("engine.toml");
  for (const char* key : {"publish_tracked", "snapshot", "admin", "admin_tcp", "admin_token",
                          "metrics_http", "mirrors"}) {
    INFO(key);
    CHECK(c.engine.key_locs.count(key) == 1);
  }
}

TEST_CASE("config/sources/fabricator.toml states the fabricator's defaults", "[config]") {
  const config c = load_config(config_dir + "/sources/fabricator.toml");
  REQUIRE(c.sources.size() == 1);
  const source_decl& s = c.sources[0];
  const source_decl d;
  CHECK(s.kind == source_kind::fabricator);
  CHECK(s.params == fabricator_settings{}.params());
  CHECK(s.interval_ns == d.interval_ns);
  CHECK(s.idle_timeout_ns == d.idle_timeout_ns);
  CHECK(s.pace_ns == d.pace_ns);
  CHECK(s.streams.size() == 2);  // books = true
  // The commented pace is an example, not a default: it loads.
  CHECK(load_uncommented("sources/fabricator.toml").sources.at(0).pace_ns == 50'000'000);
}

TEST_CASE("config/sources/zmq_events.toml states the zmq source's defaults", "[config]") {
  const config c = load_config(config_dir + "/sources/zmq_events.toml");
  REQUIRE(c.sources.size() == 1);
  const source_decl& s = c.sources[0];
  const source_decl d;
  CHECK(s.kind == source_kind::zmq);
  CHECK(s.format == d.format);
  CHECK(s.interval_ns == d.interval_ns);
  CHECK(s.idle_timeout_ns == d.idle_timeout_ns);
  CHECK(s.allowed_lateness_ns == d.allowed_lateness_ns);
  CHECK(s.max_future_ns == d.max_future_ns);
  CHECK(s.catch_up == d.catch_up);
  CHECK(load_uncommented("sources/zmq_events.toml").sources.at(0).allowed_lateness_ns ==
        500'000'000);
}

TEST_CASE("config/sources/cluster_node.toml follows nodes of config/cluster.toml by NodeID",
          "[config]") {
  const config c = load_config(config_dir + "/sources/cluster_node.toml");
  REQUIRE(c.sources.size() == 1);
  const source_decl& s = c.sources[0];
  CHECK(s.kind == source_kind::cluster_node);
  const config other = load_config(config_dir + "/cluster.toml");
  CHECK(s.engine == other.cluster.engine_id);
  const plan theirs = build_plan(other);
  REQUIRE(s.streams.size() == 2);
  for (const auto& st : s.streams) {
    // Each stream is named after the node it follows, and carries one output per bucket.
    CHECK(st.node == theirs.nodes.at(theirs.by_name.at(st.name)).id);
    CHECK(st.one_per_bucket);
    CHECK(st.time == stream_time::payload);
  }
  testing::temp_dir dir;
  auto error_of = [&](const std::string& text) {
    try {
      load_config(dir.write("c.toml",
                            "[engine]\nname = \"e\"\n[cluster]\nservers = "
                            "[\"nats://h:4222\"]\n[[source]]\nname = \"up\"\nkind = "
                            "\"cluster_node\"\n" +
                                text));
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string node =
      "[[source.stream]]\nname = \"z\"\nnode = \"" + std::string(64, 'a') + "\"\n";
  CHECK(error_of("engine = \"p\"\n" + node) == "no error");
  CHECK_THAT(error_of(node), Catch::Contains("source.engine") && Catch::Contains("required"));
  CHECK_THAT(error_of("engine = \"a.b\"\n" + node), Catch::Contains("source.engine"));
  CHECK_THAT(error_of("engine = \"e\"\n" + node),
             Catch::Contains("source.up.engine") && Catch::Contains("names this engine"));
  CHECK_THAT(error_of("engine = \"p\"\n"), Catch::Contains("source.stream"));
  CHECK_THAT(error_of("engine = \"p\"\nidle_timeout = \"5s\"\n" + node),
             Catch::Contains("source.idle_timeout") && Catch::Contains("no idle watermark"));
  CHECK_THAT(error_of("engine = \"p\"\n[[source.stream]]\nname = \"z\"\n"),
             Catch::Contains("source.up.stream.node") && Catch::Contains("required"));
  // `from`: a time in quotes, ISO-8601 UTC or ns.
  CHECK(error_of("engine = \"p\"\nfrom = \"2026-12-07T14:00:00Z\"\n" + node) == "no error");
  CHECK(error_of("engine = \"p\"\nfrom = \"1796652000000000000\"\n" + node) == "no error");
  for (const std::string bad : {"from = 2026-12-07T14:00:00Z", "from = 5", "from = \"today\""})
    CHECK_THAT(error_of("engine = \"p\"\n" + bad + "\n" + node),
               Catch::Contains("c.toml:9: source.from: must be a time in quotes"));
  // Each stream's NodeID is hashed with its own node: another stream of the source leaves it.
  auto z_id = [&](const std::string& streams) {
    const config c2 = load_config(
        dir.write("p.toml",
                  "[engine]\nname = \"e\"\n[cluster]\nservers = [\"nats://h:4222\"]\n"
                  "[[source]]\nname = \"up\"\nkind = \"cluster_node\"\nengine = \"p\"\n" +
                      streams));
    const plan p = build_plan(c2);
    return p.nodes.at(p.by_name.at("up.z")).id;
  };
  const std::string y_stream =
      "[[source.stream]]\nname = \"y\"\nnode = \"" + std::string(64, 'b') + "\"\n";
  CHECK(z_id(node) == z_id(node + y_stream));
  // Where a new dir starts is hashed: `from` changed on a dir is another graph.
  CHECK(z_id("from = \"2026-12-07T14:00:00Z\"\n" + node) != z_id(node));
  CHECK(z_id("from = \"2026-12-07T14:00:00Z\"\n" + node) ==
        z_id("from = \"1796652000000000000\"\n" + node));
  CHECK(z_id(node) !=
        z_id("[[source.stream]]\nname = \"z\"\nnode = \"" + std::string(64, 'c') + "\"\n"));
  // A zmq stream names no node.
  CHECK_THAT(error_of("engine = \"p\"\n" + node +
                      "[[source]]\nname = \"f\"\nkind = \"zmq\"\n"
                      "connect = [\"tcp://127.0.0.1:5\"]\n" +
                      node),
             Catch::Contains("source.f.stream.node") && Catch::Contains("unknown key"));
}

TEST_CASE("config/cluster.toml states the [cluster] defaults", "[config]") {
  const config c = load_config(config_dir + "/cluster.toml");
  const cluster_decl d;  // the code's defaults
  const cluster_decl& f = c.cluster;
  CHECK(f.enabled);
  CHECK(f.servers.size() == 3);
  CHECK(f.engine_id == c.engine.name);  // the default engine_id is the engine's name
  CHECK(f.stream == d.stream);
  CHECK(f.subjects == d.subjects);
  CHECK(f.replicas == d.replicas);
  CHECK(f.duplicate_window_ns == d.duplicate_window_ns);
  CHECK(f.heartbeat_ttl_ns == d.heartbeat_ttl_ns);
  CHECK(f.members == d.members);
  CHECK(f.checkpoints == d.checkpoints);
  CHECK(f.checkpoint_retention_ns == d.checkpoint_retention_ns);
  CHECK(f.active_takes == d.active_takes);
  CHECK(f.active_gives == d.active_gives);
  CHECK(f.rebalance_above == d.rebalance_above);
  CHECK(f.rebalance_every_ns == d.rebalance_every_ns);
  CHECK(f.stream_outputs == d.stream_outputs);
  CHECK(f.journal_subject() == "shoal.in.shoal");
  CHECK(f.output_subject("ab12") == "shoal.out.shoal.ab12");
  CHECK_FALSE(load_config(config_dir + "/engine.toml").cluster.enabled);  // absent: off
}

TEST_CASE("[cluster] errors name the field", "[config]") {
  testing::temp_dir dir;
  auto error_of = [&](const std::string& cluster) {
    try {
      load_config(dir.write("c.toml", "[engine]\nname = \"e\"\n[cluster]\n" + cluster));
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of(""), Catch::Contains("cluster.servers") && Catch::Contains("required"));
  CHECK_THAT(error_of("servers = [\"localhost\"]"), Catch::Contains("nats://host:port"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nengine_id = \"a.b\""),
             Catch::Contains("cluster.engine_id"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nreplicas = 7"),
             Catch::Contains("cluster.replicas"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nleader = true"),
             Catch::Contains("cluster.leader") && Catch::Contains("unknown key"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\ncheckpoint_retention = \"5s\""),
             Catch::Contains("cluster.checkpoint_retention") && Catch::Contains("[10s, 365d]"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nactive_takes = \"yes\""),
             Catch::Contains("cluster.active_takes") && Catch::Contains("true or false"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nactive_gives = 1"),
             Catch::Contains("cluster.active_gives") && Catch::Contains("true or false"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nrebalance_above = 1.05"),
             Catch::Contains("cluster.rebalance_above") && Catch::Contains("[1.1, 100]"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nrebalance_above = \"2\""),
             Catch::Contains("cluster.rebalance_above") && Catch::Contains("a number"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nrebalance_every = \"500ms\""),
             Catch::Contains("cluster.rebalance_every") && Catch::Contains("[1s, 24h]"));
  CHECK_THAT(error_of("servers = [\"nats://h:4222\"]\nstream_outputs = \"on\""),
             Catch::Contains("cluster.stream_outputs") && Catch::Contains("true or false"));
  CHECK(error_of("servers = [\"nats://h:4222\"]\nrebalance_above = 2") == "no error");
  CHECK(error_of("servers = [\"nats://h:4222\"]\nrebalance_above = 1.5") == "no error");
  CHECK(error_of("servers = [\"h:4222\"]") == "no error");
  CHECK(error_of("servers = [\"tls://h:4222\"]") == "no error");
  const std::string with_password = error_of("servers = [\"nats://shoal:hunter2@h:4222\"]");
  CHECK_THAT(with_password, Catch::Contains("cluster.servers") && Catch::Contains("password_file"));
  CHECK_THAT(with_password, !Catch::Contains("hunter2"));
  const std::string servers = "servers = [\"tls://h:4222\"]\n";
  CHECK_THAT(error_of(servers + "tls = { cert_file = \"c.pem\" }"),
             Catch::Contains("cluster.tls.key_file") && Catch::Contains("go together"));
  CHECK_THAT(error_of(servers + "tls = { ca = \"c.pem\" }"),
             Catch::Contains("cluster.tls.ca") && Catch::Contains("unknown key"));
  CHECK_THAT(error_of(servers + "tls = \"on\""), Catch::Contains("cluster.tls"));
  CHECK_THAT(error_of(servers + "user = \"shoal\""),
             Catch::Contains("cluster.password_file") && Catch::Contains("go together"));
  CHECK_THAT(error_of(servers + "user = \"shoal\"\npassword = \"s3cret\""),
             Catch::Contains("cluster.password") && Catch::Contains("put the password in a file"));
  CHECK_THAT(
      error_of(servers + "user = \"u\"\npassword_file = \"p\"\ncredentials_file = \"e.creds\""),
      Catch::Contains("cluster.credentials_file") && Catch::Contains("not both"));
}

TEST_CASE("[cluster] TLS and credential files are found beside the config", "[config]") {
  testing::temp_dir dir;
  const config c = load_config(dir.write(
      "c.toml",
      "[engine]\nname = \"e\"\n[cluster]\nservers = [\"nats://h:4222\"]\n"
      "tls = { ca_file = \"nats/ca.pem\", cert_file = \"/etc/shoal/client.pem\", "
      "key_file = \"nats/client.key\" }\nuser = \"shoal\"\npassword_file = \"nats/password\"\n"));
  const cluster_security& s = c.cluster.security;
  CHECK(s.ca_file == (dir.path() / "nats/ca.pem").string());
  CHECK(s.cert_file == "/etc/shoal/client.pem");
  CHECK(s.key_file == (dir.path() / "nats/client.key").string());
  CHECK(s.user == "shoal");
  CHECK(s.password_file == (dir.path() / "nats/password").string());
  CHECK(c.cluster.tls());  // a CA turns TLS on, though the URL says nats://
  CHECK_FALSE(load_config(config_dir + "/cluster.toml").cluster.tls());
}
