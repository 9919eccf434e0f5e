#pragma once
// admin_protocol: one request line in, one answer line out (design §9). Newline-delimited JSON,
// {"cmd": "...", ...} → {"ok": true, ...} or {"ok": false, "error": "..."}. Every byte sequence
// gets an answer that is valid UTF-8 JSON: text echoed from a request (parse errors quote the
// bytes they stopped at) is escaped, invalid UTF-8 becoming U+FFFD, and nothing throws.
// What the commands do is the backend's business (the engine implements it).

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shoal {

class admin_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class admin_backend {
 public:
  virtual ~admin_backend() = default;
  // Answers one request (throws admin_error for a clear refusal). Runs on the admin thread.
  virtual nlohmann::json handle(const std::string& cmd, const nlohmann::json& request) = 0;
  // Prometheus text exposition format.
  virtual std::string metrics_text() = 0;
};

struct admin_reply {
  std::string line;        // the answer, '\n'-terminated
  bool bad_token = false;  // refused for a bad or missing token (the caller delays and closes)
};

// Parses, checks the token (token == nullptr: none needed, as on the Unix socket), dispatches
// and wraps errors. Never throws.
admin_reply admin_answer(admin_backend& backend, std::string_view line, const std::string* token);

// Compares in time independent of where the strings differ (no token oracle by timing).
bool constant_time_equal(const std::string& a, const std::string& b);

// {"ok": false, "error": why} and '\n', valid UTF-8 whatever why holds.
std::string error_line(std::string_view why);

// s as UTF-8 safe to log or echo: invalid sequences become U+FFFD, quotes and control
// characters are escaped as in JSON, and at most max_bytes of s are kept.
std::string escaped(std::string_view s, std::size_t max_bytes = 256);

}  // namespace shoal
