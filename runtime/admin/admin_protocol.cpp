#include "runtime/admin/admin_protocol.hpp"

#include <algorithm>

namespace shoal {

namespace {

using json = nlohmann::json;

// Every dump of text that may hold request bytes replaces invalid UTF-8: the strict default
// throws, and a throw here once ended the admin io loop.
std::string dump_safe(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

admin_reply answer(admin_backend& backend, std::string_view line, const std::string* token) {
  json req;
  try {
    req = json::parse(line);
  } catch (const std::exception& e) {
    // nlohmann's message quotes the bytes where parsing stopped (error_line makes them valid
    // UTF-8); a long token would echo up to the whole line, so keep the start.
    std::string what = e.what();
    if (what.size() > 256) {
      what = what.substr(0, 256) + "...";
    }
    return {error_line("malformed JSON: " + what), false};
  }
  if (!req.is_object()) {
    return {error_line("a request is a JSON object {\"cmd\": ...}"), false};
  }
  if (token) {
    const auto it = req.find("token");
    if (it == req.end() || !it->is_string() ||
        !constant_time_equal(it->get<std::string>(), *token)) {
      return {error_line("bad or missing token"), true};
    }
  }
  const auto cmd = req.find("cmd");
  if (cmd == req.end() || !cmd->is_string()) {
    return {error_line("missing \"cmd\" (try {\"cmd\": \"help\"})"), false};
  }
  try {
    json out = backend.handle(cmd->get<std::string>(), req);
    out["ok"] = true;
    return {dump_safe(out) + "\n", false};
  } catch (const admin_error& e) {
    return {error_line(e.what()), false};
  } catch (const std::exception& e) {
    return {error_line(std::string("internal error: ") + e.what()), false};
  }
}

}  // namespace

std::string error_line(std::string_view why) {
  return dump_safe(json{{"ok", false}, {"error", std::string(why)}}) + "\n";
}

std::string escaped(std::string_view s, std::size_t max_bytes) {
  const bool cut = s.size() > max_bytes;
  std::string quoted = dump_safe(json(std::string(s.substr(0, max_bytes))));
  return quoted.substr(1, quoted.size() - 2) + (cut ? "..." : "");
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

admin_reply admin_answer(admin_backend& backend, std::string_view line, const std::string* token) {
  try {
    return answer(backend, line, token);
  } catch (...) {
    // A backend throwing something that is not a std::exception: still one JSON line.
    return {"{\"ok\":false,\"error\":\"internal error\"}\n", false};
  }
}

}  // namespace shoal
