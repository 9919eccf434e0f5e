// The admin server under abuse, in process with a stand-in backend on real sockets: hostile
// lines are answered and it serves on; idle connections close; the Unix socket and TCP have
// caps of their own; a bad token is answered late without stalling anyone else.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <vector>

#include "admin_test_support.hpp"
#include "wait_for.hpp"

using namespace shoal;
using namespace shoal::test;
using namespace std::chrono_literals;

TEST_CASE("admin server: hostile lines on the Unix socket and TCP are answered and it serves on",
          "[admin]") {
  running_server s;
  for (const auto& line :
       {std::string("\x80"), std::string("\xff\xfe"), std::string("{\"cmd\": \"echo-bytes\"}"),
        std::string("{\"cmd\": \"throw-int\"}")}) {
    client u = client::unix_socket(s.sock());
    u.send(line + "\n");
    CHECK(parse_answer(u.read_line())["ok"] == false);
    // The same connection keeps serving.
    CHECK(u.ask({{"cmd", "version"}})["engine"] == "test");

    client t = client::tcp(s.server->tcp_port());
    t.send(line + "\n");  // before any token
    CHECK(parse_answer(t.read_line())["ok"] == false);
  }
  client u = client::unix_socket(s.sock());
  for (const auto& line : hostile_lines()) {
    u.send(line + "\n");
    CHECK(parse_answer(u.read_line())["ok"] == false);
  }
  CHECK(s.version_over_unix()["engine"] == "test");
  CHECK(s.version_over_tcp()["engine"] == "test");
  CHECK(http_get(s.server->http_port(), get_metrics).find("shoal_test_total 1") !=
        std::string::npos);
}

TEST_CASE("admin server: idle connections close after the timeout and say why", "[admin]") {
  admin_options o;
  o.idle_timeout = 300ms;
  running_server s(o);

  client u = client::unix_socket(s.sock());
  client t = client::tcp(s.server->tcp_port());
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  const json why = parse_answer(u.read_line());
  CHECK(why["error"].get<std::string>().find("idle timeout") != std::string::npos);
  CHECK(u.read_to_end(&closed).empty());
  CHECK(closed);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  CHECK(parse_answer(t.read_line())["error"].get<std::string>().find("idle timeout") !=
        std::string::npos);
  CHECK(t.read_to_end(&closed).empty());
  CHECK(closed);

  // Idle means without a request: a client asking every 100 ms stays.
  client busy = client::unix_socket(s.sock());
  for (int i = 0; i < 8; ++i) {
    CHECK(busy.ask({{"cmd", "version"}})["ok"] == true);
    std::this_thread::sleep_for(100ms);  // the client's pace, not a wait for the server
  }
}

TEST_CASE(
    "admin server: the Unix socket and TCP have caps of their own, and a TCP flood never locks "
    "out the Unix socket",
    "[admin]") {
  admin_options o;
  o.max_unix_connections = 4;
  o.max_tcp_connections = 3;
  running_server s(o);

  std::vector<client> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(client::tcp(s.server->tcp_port()));
  }
  // Accepted in order on one thread: once a refusal is seen, the idle ones hold their slots.
  client extra_tcp = client::tcp(s.server->tcp_port());
  const json full = parse_answer(extra_tcp.read_line());
  CHECK(full["error"].get<std::string>().find("too many admin connections on the TCP port (3") !=
        std::string::npos);

  // The Unix socket still answers, up to its own cap: 4 held, the fifth refused.
  std::vector<client> local;
  for (int i = 0; i < 4; ++i) {
    local.push_back(client::unix_socket(s.sock()));
    CHECK(local.back().ask({{"cmd", "version"}})["engine"] == "test");
  }
  client extra_unix = client::unix_socket(s.sock());
  CHECK(parse_answer(extra_unix.read_line())["error"].get<std::string>().find(
            "too many admin connections on the Unix socket (4") != std::string::npos);

  // A closed connection gives its slot back.
  idle.erase(idle.begin());
  CHECK(test::wait_for([&] {
    client t = client::tcp(s.server->tcp_port());
    t.send(json{{"cmd", "version"}, {"token", token}}.dump() + "\n");
    return t.read_line().find("\"ok\":true") != std::string::npos;
  }));
}

TEST_CASE("admin server: a bad token is answered late and logged, without stalling others",
          "[admin]") {
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("admin-test", log));
  admin_options o;
  o.token_delay.first_delay = 1000ms;
  running_server s(o);

  const auto t0 = std::chrono::steady_clock::now();
  client bad = client::tcp(s.server->tcp_port());
  bad.send(R"({"cmd": "version", "token": "guess"})"
           "\n");
  // Meanwhile the Unix socket and a right token are served: the delay is a timer, not a
  // stalled io thread.
  CHECK(s.version_over_unix()["engine"] == "test");
  CHECK(s.version_over_tcp()["engine"] == "test");
  CHECK(!bad.has_data());
  const json refused = parse_answer(bad.read_line());
  CHECK(std::chrono::steady_clock::now() - t0 >= 1000ms);
  CHECK(refused["error"] == "bad or missing token");
  bool closed = false;
  CHECK(bad.read_to_end(&closed).empty());
  CHECK(closed);

  // The next failure waits twice as long.
  const auto t1 = std::chrono::steady_clock::now();
  client again = client::tcp(s.server->tcp_port());
  again.send(R"({"cmd": "version"})"
             "\n");
  CHECK(parse_answer(again.read_line())["error"] == "bad or missing token");
  CHECK(std::chrono::steady_clock::now() - t1 >= 2000ms);

  // One line for the first failure; the second falls in the same log interval.
  const auto lines = log->last_formatted();
  spdlog::set_default_logger(previous);
  std::size_t token_lines = 0;
  for (const auto& l : lines) {
    if (l.find("bad or missing token on the TCP port from 127.0.0.1:") != std::string::npos) {
      ++token_lines;
    }
  }
  CHECK(token_lines == 1);
}
