// GET /metrics over HTTP (Boost.Beast): 200 for the scrape, 404, 405 and 400 for the rest,
// keep-alive, a failing backend answered 500 without harm, its own cap and idle timeout.
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "admin_test_support.hpp"
#include "wait_for.hpp"

using namespace shoal;
using namespace shoal::test;
using namespace std::chrono_literals;

TEST_CASE("admin metrics http: GET /metrics, 404, 405, 400, keep-alive, and a failing backend",
          "[admin]") {
  running_server s;
  const int port = s.server->http_port();
  const auto ok = http_get(port, get_metrics);
  CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(ok.find("\r\n\r\nshoal_test_total 1\n") != std::string::npos);
  CHECK(http_get(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0) == 0);
  CHECK(http_get(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .rfind("HTTP/1.1 404", 0) == 0);
  const auto post = http_get(
      port,
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(post.find("Allow: GET") != std::string::npos);
  CHECK(http_get(port, "\xff\xfe garbage\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);

  // Two requests on one connection.
  client c = client::tcp(port);
  c.send(
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n");
  const auto both = c.read_to_end();
  CHECK(both.find("HTTP/1.1 200") != both.rfind("HTTP/1.1 200"));

  s.backend->fail_metrics = true;
  CHECK(http_get(port, get_metrics).rfind("HTTP/1.1 500", 0) == 0);
  s.backend->fail_metrics = false;
  CHECK(http_get(port, get_metrics).rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE(
    "admin metrics http: its own cap and idle timeout, and a flood never locks out the Unix "
    "socket",
    "[admin]") {
  admin_options o;
  o.max_http_connections = 2;
  o.http_idle_timeout = 300ms;
  running_server s(o);
  const int port = s.server->http_port();

  std::vector<client> idle;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    idle.push_back(client::tcp(port));
  }
  // Accepted in order on one thread: the third is refused while the first two hold their slots.
  const auto full = http_get(port, get_metrics);
  CHECK(full.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(full.find("too many metrics connections (2 open)") != std::string::npos);
  CHECK(s.version_over_unix()["engine"] == "test");
  CHECK(s.version_over_tcp()["engine"] == "test");

  // Idle ones close after the timeout, without an answer, and give their slots back.
  for (auto& c : idle) {
    bool closed = false;
    CHECK(c.read_to_end(&closed).empty());
    CHECK(closed);
  }
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  CHECK(test::wait_for([&] { return http_get(port, get_metrics).rfind("HTTP/1.1 200", 0) == 0; }));
}
