// The engine with a real actor system, real ZeroMQ sockets and the fabricator: failure
// isolation, dedup actor counts, and the zmq source's validation and seq assignment.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "../unit/temp_files.hpp"
#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/engine/engine.hpp"

using namespace shoal;
using namespace std::chrono_literals;

namespace {

// Throws on its 6th bucket: a kernel bug in the middle of a live run.
class bomb_kernel final : public kernel {
 public:
  Value compute(const kernel_input& in) override {
    if (++fired_ == 6) throw std::runtime_error("boom: divide by a negative universe");
    return *in.port(0).back().v;
  }

 private:
  int fired_ = 0;
};

void register_bomb() {
  kind_info k;
  k.name = "test_bomb";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.make = [](const value_map&, const kernel_context&) { return std::make_unique<bomb_kernel>(); };
  register_kind(k);
}

const node_report& report_of(const std::vector<node_report>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) return r;
  throw std::runtime_error("no node " + name);
}

// An engine (ENGINE: more [engine] lines) on a paced 4-asset fabricator through ret (log_return),
// and NODES after it.
std::string fabricator_graph(const std::string& engine, const std::string& nodes) {
  return "[engine]\npublish = \"tcp://127.0.0.1:*\"\n" + engine + R"(
[[source]]
name = "market"
kind = "fabricator"
assets = 4
pace = "5ms"
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "market.scan" }
)" + nodes;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

}  // namespace

TEST_CASE("a node whose kernel throws is FAILED with its reason while the others keep emitting",
          "[engine]") {
  register_bomb();
  testing::temp_dir dir;
  auto path = dir.write("g.toml", fabricator_graph("", R"([[node]]
name = "bomb"
kind = "test_bomb"
inputs = { in = "ret" }
[[node]]
name = "smooth"
kind = "ema"
inputs = { in = "ret" }
)"));
  config cfg = load_config(path);
  engine eng(cfg, build_plan(cfg));
  eng.start();
  REQUIRE(wait_until([&] { return report_of(eng.nodes(), "bomb").state == node_state::failed; }));
  const auto at_failure = report_of(eng.nodes(), "smooth").outputs;
  REQUIRE(wait_until([&] { return report_of(eng.nodes(), "smooth").outputs >= at_failure + 20; }));
  eng.stop();
  auto rs = eng.nodes();
  const auto& bomb = report_of(rs, "bomb");
  CHECK(bomb.state == node_state::failed);
  CHECK_THAT(bomb.reason, Catch::Matchers::Contains("boom: divide by a negative universe"));
  CHECK(bomb.outputs == 5);
  CHECK(report_of(rs, "smooth").state == node_state::running);
  // Upstream of smooth, which went on 20 outputs past the failure (ret may be exactly there).
  CHECK(report_of(rs, "ret").outputs >= at_failure + 20);
}

TEST_CASE("two strategies sharing 3 of 5 nodes run 7 node actors", "[engine]") {
  config cfg = load_config(std::string(SHOAL_TEST_DATA) + "/configs/shared/engine.toml");
  cfg.engine.publish = "tcp://127.0.0.1:*";
  engine eng(cfg, build_plan(cfg));
  eng.start();
  CHECK(eng.counts().node_actors == 7);
  CHECK(eng.counts().stream_actors == 2);
  CHECK(eng.counts().source_feeds == 1);
  // Every distinct node computes, shared ones once for both strategies.
  REQUIRE(wait_until([&] {
    for (const auto& r : eng.nodes())
      if (r.outputs == 0 && r.names.front() != "market.ob") return false;
    return true;
  }));
  eng.stop();
  const auto rs = eng.nodes();
  const auto& shared = report_of(rs, "beta.returns");
  CHECK(shared.names == std::vector<std::string>{"alpha.ret", "beta.returns"});
}

// An engine whose one source, "feed", reads a PUB socket the test owns (frames [stream][payload]).
struct zmq_fed_engine {
  zmq::context_t ctx{1};
  zmq::socket_t feed{ctx, zmq::socket_type::pub};
  testing::temp_dir dir;
  std::unique_ptr<engine> eng;

  // `rest`: the source's [[source.stream]] tables and any [[node]] tables.
  zmq_fed_engine(const std::string& idle_timeout, const std::string& rest) {
    feed.bind("tcp://127.0.0.1:*");
    const std::string endpoint = feed.get(zmq::sockopt::last_endpoint);
    auto path = dir.write("g.toml",
                          "[engine]\npublish = \"tcp://127.0.0.1:*\"\n[[source]]\nname = \"feed\"\n"
                          "kind = \"zmq\"\nconnect = [\"" +
                              endpoint +
                              "\"]\ninterval = \"1s\"\n"
                              "idle_timeout = \"" +
                              idle_timeout + "\"\n" + rest);
    config cfg = load_config(path);
    eng = std::make_unique<engine>(cfg, build_plan(cfg));
    eng->start();
    std::this_thread::sleep_for(300ms);  // let the SUB connect (ZeroMQ slow joiner)
  }
  void send(const std::string& stream, const std::string& bytes) {
    feed.send(zmq::buffer(stream), zmq::send_flags::sndmore);
    feed.send(zmq::buffer(bytes));
  }
};

TEST_CASE("the zmq source validates frames, assigns seqs and rejects bad input", "[engine]") {
  zmq_fed_engine f("200ms", R"(
[[source.stream]]
name = "scan"
schema = "scan"
one_per_bucket = true
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }
)");
  auto scan = [](std::int64_t ts, double price) {
    return to_msgpack(Value(value_map{{"ts", Value(ts)},
                                      {"scan_number", Value(ts)},
                                      {"assets", Value(value_list{"A"})},
                                      {"prices", Value(f64_vector{price})}}));
  };
  const std::int64_t s = 1'000'000'000;
  f.send("scan", scan(1 * s, 100));
  f.send("scan", "\xc1 not msgpack");                       // not MessagePack
  f.send("scan", to_msgpack(Value(value_list{Value(1)})));  // not a map
  f.send("scan", scan(2 * s, -5));                          // negative price
  f.send("scan", scan(2 * s, 101));
  f.send("scan", scan(3 * s, 102));
  REQUIRE(wait_until([&] { return report_of(f.eng->nodes(), "ret").outputs == 2; }));
  f.eng->stop();
  auto rs = f.eng->nodes();
  CHECK(report_of(rs, "feed.scan").rejected == 3);
  CHECK(report_of(rs, "feed.scan").events_in == 3);
  CHECK(report_of(rs, "feed.scan").outputs == 3);
  CHECK(report_of(rs, "ret").outputs == 2);
}

TEST_CASE("a zmq payload ts with a fraction of a ns is rejected, an integral float is taken",
          "[engine]") {
  zmq_fed_engine f("200ms", R"(
[[source.stream]]
name = "scan"
schema = "scan"
one_per_bucket = true
)");
  auto scan = [](const Value& ts) {
    return to_msgpack(Value(value_map{{"ts", ts},
                                      {"scan_number", Value(1)},
                                      {"assets", Value(value_list{"A"})},
                                      {"prices", Value(f64_vector{100.0})}}));
  };
  f.send("scan", scan(Value(1.0e9)));        // 1 s as a float: a whole number of ns
  f.send("scan", scan(Value(2.0e9 + 0.5)));  // half a ns past 2 s
  f.send("scan", scan(Value(1.5)));
  f.send("scan", scan(Value(std::int64_t{3'000'000'000})));
  // Frames are handled in order: once the 3 s scan is out, the others have been judged.
  REQUIRE(wait_until(
      [&] { return report_of(f.eng->nodes(), "feed.scan").last_bucket == 3'000'000'000; }));
  f.eng->stop();
  const auto rs = f.eng->nodes();
  CHECK(report_of(rs, "feed.scan").rejected == 2);
  CHECK(report_of(rs, "feed.scan").events_in == 2);
}

TEST_CASE("a quiet zmq stream gets an idle watermark that closes its open bucket", "[engine]") {
  zmq_fed_engine f("300ms", R"(
[[source.stream]]
name = "book"
schema = "ob"
key = "asset"
)");
  auto book = [](std::int64_t ts, const char* asset) {
    return to_msgpack(Value(value_map{{"ts", Value(ts)},
                                      {"asset", Value(asset)},
                                      {"bid_px", Value(f64_vector{99.0})},
                                      {"bid_qty", Value(f64_vector{1.0})},
                                      {"ask_px", Value(f64_vector{101.0})},
                                      {"ask_qty", Value(f64_vector{2.0})}}));
  };
  for (const char* asset : {"A", "B", "A"}) {
    f.send("book", book(5'000'000'000, asset));
  }
  // Nothing closes bucket 5s but the idle timeout: no later event, no one_per_bucket.
  REQUIRE(wait_until([&] { return report_of(f.eng->nodes(), "feed.book").outputs == 1; }));
  f.eng->stop();
  const auto rs = f.eng->nodes();
  CHECK(report_of(rs, "feed.book").events_in == 3);
}

TEST_CASE("a console page's live stream ends when the engine stops, not when the engine goes",
          "[engine]") {
  // A free loopback port for the console (the engine reports none of its admin ports).
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int port = ntohs(a.sin_port);
  ::close(probe);
  testing::temp_dir dir;
  auto path = dir.write(
      "g.toml",
      fabricator_graph("admin_token = \"0123456789abcdef-token\"\nconsole = \"127.0.0.1:" +
                           std::to_string(port) + "\"\n",
                       ""));
  config cfg = load_config(path);
  engine_options opt;
  opt.data_dir = (dir.path() / "data").string();
  engine eng(cfg, build_plan(cfg), opt);
  eng.start();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string get =
      "GET /api/events?token=0123456789abcdef-token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
  // The stream's header and its first event.
  std::string got;
  char buf[4096];
  while (got.find("data: ") == std::string::npos) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  eng.stop();
  // The engine object still exists: the stream has ended all the same (EOF, not the timeout).
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  CHECK(n == 0);
  ::close(fd);
}
