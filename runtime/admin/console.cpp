#include "runtime/admin/console.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <set>
#include <string_view>

#include "runtime/admin/console_assets.hpp"

namespace shoal {
namespace {

using json = nlohmann::json;

const std::set<std::string, std::less<>> read_commands = {
    "version", "status",  "graph",   "nodes",      "inspect",
    "window",  "outputs", "metrics", "strategies", "subscribers"};
const std::set<std::string, std::less<>> write_commands = {"pause", "resume", "restart"};

// Live streams at once: each holds a connection for as long as its page is open.
constexpr int max_event_streams = 8;

http_answer json_answer(unsigned status, const json& j) {
  return {status, "application/json",
          j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

http_answer refused(unsigned status, const std::string& why) {
  return json_answer(status, {{"ok", false}, {"error", why}});
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// A loopback name for this machine, as a browser sends it in Host ("127.0.0.1:8090") or Origin
// ("http://127.0.0.1:8090"). A page served from another name — a DNS-rebinding attack, or any
// web site the operator's browser shows — is not one.
bool loopback_host(std::string_view host) {
  for (std::string_view name : {"127.0.0.1", "localhost", "[::1]"})
    if (host.substr(0, name.size()) == name &&
        (host.size() == name.size() || host[name.size()] == ':'))
      return true;
  return false;
}

// The admin request of an /api call: its query, "n" and "depth" as integers, "fresh" a flag.
json request_of(const std::string& cmd, const http_request& r) {
  json req = {{"cmd", cmd}};
  for (const auto& [k, v] : r.params) {
    if (k == "token") continue;
    if (k == "fresh") {
      req[k] = v == "1" || v == "true";
    } else if (k == "n" || k == "depth") {
      std::int64_t x = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec == std::errc() && end == v.data() + v.size()) {
        req[k] = x;
      } else {
        req[k] = v;  // the command says what is wrong with it
      }
    } else {
      req[k] = v;
    }
  }
  return req;
}

// What every live stream sends: the `nodes` answer, computed at most once per half second
// however many pages are open (the admin thread serves them all). While the engine starts (it
// refuses `nodes` until it is live) the `status` answer instead, as {"status": …}.
struct live_state {
  std::shared_ptr<admin_backend> backend;
  std::chrono::steady_clock::time_point at{};
  std::string nodes;
  int streams = 0;

  const std::string& current() {
    const auto now = std::chrono::steady_clock::now();
    if (nodes.empty() || now - at >= std::chrono::milliseconds(500)) {
      json answer;
      try {
        answer = backend->handle("nodes", {{"cmd", "nodes"}});
      } catch (const admin_error&) {
        answer = {{"status", backend->handle("status", {{"cmd", "status"}})}};
      }
      nodes = answer.dump(-1, ' ', false, json::error_handler_t::replace);
      at = now;
    }
    return nodes;
  }
};

// Counts a live stream for as long as its session holds it.
struct stream_ticket {
  std::shared_ptr<live_state> live;
  explicit stream_ticket(std::shared_ptr<live_state> l) : live(std::move(l)) { ++live->streams; }
  ~stream_ticket() { --live->streams; }
  stream_ticket(const stream_ticket&) = delete;
  stream_ticket& operator=(const stream_ticket&) = delete;
};

}  // namespace

http_route console_route(std::shared_ptr<admin_backend> backend, std::string token,
                         token_throttle* throttle) {
  auto live = std::make_shared<live_state>();
  live->backend = backend;
  return [backend, token, live, throttle](const http_request& r) -> http_answer {
    if (r.method != "GET" && r.method != "POST") {
      http_answer a = refused(405, "the console answers GET and POST");
      a.allow = "GET, POST";
      return a;
    }
    if (r.path == "/" || r.path == "/index.html")
      return {200, "text/html; charset=utf-8", std::string(console_html)};
    if (r.path == "/console.js")
      return {200, "text/javascript; charset=utf-8", std::string(console_js)};
    if (r.path == "/console.css") return {200, "text/css; charset=utf-8", std::string(console_css)};
    if (r.path.rfind("/api/", 0) != 0) return {404, "text/plain; charset=utf-8", "not found\n"};
    if (!loopback_host(r.host))
      return refused(403, "the console answers requests for 127.0.0.1 or localhost only");
    if (!r.origin.empty() &&
        !loopback_host(r.origin.substr(
            r.origin.find("//") == std::string::npos ? 0 : r.origin.find("//") + 2)))
      return refused(403, "requests from pages of other sites are refused");
    // The token: as `Authorization: Bearer …` (the page's requests), else `?token=` for the
    // live stream only (EventSource sends no headers; a token in other URLs would end up in
    // more histories and logs).
    std::string given;
    if (starts_with_nocase(r.authorization, "bearer ")) {
      given = r.authorization.substr(7);
    } else if (const auto it = r.params.find("token");
               it != r.params.end() && r.path == "/api/events") {
      given = it->second;
    }
    if (!constant_time_equal(given, token)) {
      // As on the admin TCP endpoint: a delay doubling per failure, and a log line.
      const auto v = throttle->on_failure(std::chrono::steady_clock::now());
      if (v.log)
        spdlog::warn(
            "admin: bad or missing token on the console ({} since the last report, {} in all); "
            "answered after {} ms, doubling per failure up to {} ms",
            v.unlogged, throttle->failures(), v.delay.count(),
            throttle->settings().max_delay.count());
      http_answer a = refused(401, "bad or missing token (open the console as /?token=…)");
      a.delay = v.delay;
      return a;
    }
    const std::string cmd = r.path.substr(5);
    if (cmd == "events") {
      if (r.method != "GET") return refused(405, "events takes GET");
      if (live->streams >= max_event_streams)
        return refused(
            503, "too many live console pages (" + std::to_string(max_event_streams) + " open)");
      http_answer a{200, "text/event-stream", ""};
      auto ticket = std::make_shared<stream_ticket>(live);
      a.events = [ticket] { return ticket->live->current(); };
      return a;
    }
    const bool reads = read_commands.count(cmd) != 0, writes = write_commands.count(cmd) != 0;
    if (!reads && !writes) return refused(404, "no console command \"" + cmd + "\"");
    if ((reads && r.method != "GET") || (writes && r.method != "POST")) {
      http_answer a = refused(405, cmd + " takes " + (reads ? "GET" : "POST"));
      a.allow = reads ? "GET" : "POST";
      return a;
    }
    try {
      json answer = backend->handle(cmd, request_of(cmd, r));
      answer["ok"] = true;
      return json_answer(200, answer);
    } catch (const admin_error& e) {
      return refused(400, e.what());
    }
  };
}

}  // namespace shoal
