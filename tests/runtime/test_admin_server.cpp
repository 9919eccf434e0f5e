// The admin server under abuse, in process with a stand-in backend on real sockets: hostile
// lines are answered and it serves on.
#include <catch2/catch.hpp>

#include <string>

#include "admin_test_support.hpp"

using namespace shoal;
using namespace shoal::test;

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
