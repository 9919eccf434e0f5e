// The admin line protocol and the bad-token policy, without sockets: every byte sequence gets one
// valid UTF-8 JSON error line (nlohmann's strict dump once threw on echoed bytes and ended the
// admin io loop); the token decides on TCP only; failed tokens cost a doubling delay and are
// logged once per interval.
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "admin_test_support.hpp"
#include "runtime/admin/token_throttle.hpp"

using namespace shoal;
using namespace shoal::test;
using namespace std::chrono_literals;

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

TEST_CASE(
    "token_throttle: delays double to a cap, are forgotten after a quiet spell, and one "
    "log line covers an interval",
    "[admin]") {
  token_throttle::options o;
  o.first_delay = 100ms;
  o.max_delay = 1000ms;
  o.forget_after = 30s;
  o.log_interval = 10s;
  token_throttle t(o);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

  std::vector<long> delays;
  std::vector<bool> logged;
  for (int i = 0; i < 6; ++i) {
    const auto v = t.on_failure(t0 + std::chrono::seconds(i));
    delays.push_back(static_cast<long>(v.delay.count()));
    logged.push_back(v.log);
  }
  CHECK(delays == std::vector<long>{100, 200, 400, 800, 1000, 1000});
  CHECK(logged == std::vector<bool>{true, false, false, false, false, false});

  // Ten seconds after the first line: the next failure reports the ones in between.
  const auto v = t.on_failure(t0 + 10s);
  CHECK(v.log);
  CHECK(v.unlogged == 6);
  CHECK(v.delay == 1000ms);
  CHECK(t.failures() == 7);

  // A quiet spell: the streak is forgotten and the next failure is logged at once.
  const auto later = t.on_failure(t0 + 10s + 30s);
  CHECK(later.first);
  CHECK(later.log);
  CHECK(later.delay == 100ms);

  // Thousands in a row: the delay stays capped (no overflow).
  token_throttle many(o);
  token_throttle::verdict last;
  for (int i = 0; i < 5000; ++i) {
    last = many.on_failure(t0 + std::chrono::milliseconds(i));
  }
  CHECK(last.delay == 1000ms);
}
