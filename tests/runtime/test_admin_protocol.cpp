// The admin line protocol without sockets: every byte sequence gets one valid UTF-8 JSON error
// line (nlohmann's strict dump once threw on echoed bytes and ended the admin io loop); the
// token decides on TCP only.
#include <catch2/catch.hpp>

#include <vector>

#include "admin_test_support.hpp"

using namespace shoal;
using namespace shoal::test;

TEST_CASE("admin_answer: every byte sequence gets one valid UTF-8 JSON error line", "[admin]") {
  stand_in_backend b;
  for (const auto& line : hostile_lines()) {
    for (const std::string* tok : {static_cast<const std::string*>(nullptr), &token}) {
      const auto r = admin_answer(b, line, tok);
      const json j = parse_answer(r.line);
      CHECK(j["ok"] == false);
      CHECK(j["error"].is_string());
    }
  }
  const json j = parse_answer(admin_answer(b, "\xff\xfe", nullptr).line);
  CHECK(j["error"].get<std::string>().rfind("malformed JSON", 0) == 0);
}

TEST_CASE("admin_answer: refusals quoting request bytes, and odd exceptions, stay JSON",
          "[admin]") {
  stand_in_backend b;
  const json echoed = parse_answer(admin_answer(b, R"({"cmd": "echo-bytes"})", nullptr).line);
  CHECK(echoed["ok"] == false);
  CHECK(echoed["error"] == "no node named \"\xef\xbf\xbd\xef\xbf\xbd\"");  // U+FFFD twice
  const json odd = parse_answer(admin_answer(b, R"({"cmd": "throw-int"})", nullptr).line);
  CHECK(odd["ok"] == false);
  CHECK(odd["error"] == "internal error");
  CHECK(parse_answer(error_line("bad \xc3(")) ==
        json{{"ok", false}, {"error", "bad \xef\xbf\xbd("}});
}

TEST_CASE("admin_answer: the token decides on TCP, never on the Unix socket", "[admin]") {
  stand_in_backend b;
  CHECK(admin_answer(b, R"({"cmd": "version"})", &token).bad_token);
  CHECK(admin_answer(b, R"({"cmd": "version", "token": "wrong"})", &token).bad_token);
  CHECK(admin_answer(b, R"({"cmd": "version", "token": 7})", &token).bad_token);
  const auto good = admin_answer(b, json{{"cmd", "version"}, {"token", token}}.dump(), &token);
  CHECK(!good.bad_token);
  CHECK(parse_answer(good.line)["engine"] == "test");
  const auto local = admin_answer(b, R"({"cmd": "version"})", nullptr);
  CHECK(!local.bad_token);
  CHECK(parse_answer(local.line)["ok"] == true);
}
