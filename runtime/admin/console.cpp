#include "runtime/admin/console.hpp"

#include <set>
#include <string_view>

#include "runtime/admin/console_assets.hpp"

namespace shoal {
namespace {

using json = nlohmann::json;

const std::set<std::string, std::less<>> read_commands = {"version", "graph",      "nodes",
                                                          "inspect", "window",     "outputs",
                                                          "metrics", "strategies", "subscribers"};
const std::set<std::string, std::less<>> write_commands = {"pause", "resume", "restart"};

http_answer json_answer(unsigned status, const json& j) {
  return {status, "application/json",
          j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

http_answer refused(unsigned status, const std::string& why) {
  return json_answer(status, {{"ok", false}, {"error", why}});
}

// The admin request of an /api call: its query, "n"/"depth" as integers, "fresh" as a flag.
json request_of(const std::string& cmd, const http_request& r) {
  json req = {{"cmd", cmd}};
  for (const auto& [k, v] : r.params) {
    if (k == "token") continue;
    if (k == "fresh" || k == "dry_run") {
      req[k] = v == "1" || v == "true";
    } else if (k == "n" || k == "depth" || k == "bucket") {
      try {
        req[k] = std::stoll(v);
      } catch (const std::exception&) {
        req[k] = v;  // the command says what is wrong with it
      }
    } else {
      req[k] = v;
    }
  }
  return req;
}

}  // namespace

http_route console_route(std::shared_ptr<admin_backend> backend, std::string token) {
  return [backend, token](const http_request& r) -> http_answer {
    if (r.path == "/" || r.path == "/index.html")
      return {200, "text/html; charset=utf-8", std::string(console_html)};
    if (r.path == "/console.js")
      return {200, "text/javascript; charset=utf-8", std::string(console_js)};
    if (r.path == "/console.css") return {200, "text/css; charset=utf-8", std::string(console_css)};
    if (r.path.rfind("/api/", 0) != 0) return {404, "text/plain; charset=utf-8", "not found\n"};
    if (!token.empty()) {
      const auto it = r.params.find("token");
      const std::string given = it != r.params.end() ? it->second
                                : r.authorization.rfind("Bearer ", 0) == 0
                                    ? r.authorization.substr(7)
                                    : std::string();
      if (!constant_time_equal(given, token))
        return refused(401, "bad or missing token (open the console as /?token=…)");
    }
    const std::string cmd = r.path.substr(5);
    if (cmd == "events") {
      http_answer a{200, "text/event-stream", ""};
      a.events = [backend] {
        json nodes = backend->handle("nodes", {{"cmd", "nodes"}});
        return nodes.dump(-1, ' ', false, json::error_handler_t::replace);
      };
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
