#pragma once
// admin_server: the operator's socket (design §9). Boost.Asio on its own thread: a Unix socket
// (mode 0600) and, when configured, loopback TCP where every request must carry the token
// (compared in constant time; a connection that fails it gets an error and is closed).
// Protocol: newline-delimited JSON, {"cmd": "...", ...} → {"ok": true, ...} or
// {"ok": false, "error": "..."}; a line over 1 MiB is refused and the connection closed.
// Optionally it also serves the Prometheus text on loopback HTTP (GET /metrics).
// What the commands do is the backend's business (the engine implements it).

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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

struct admin_options {
  std::string unix_path;  // empty: no Unix socket
  std::string tcp;        // "127.0.0.1:PORT" or empty
  std::string token;      // required on TCP
  std::string http;       // "127.0.0.1:PORT" for GET /metrics, or empty
  std::size_t max_line = std::size_t{1} << 20;
};

class admin_server {
 public:
  // Binds every endpoint before returning (throws std::runtime_error naming the endpoint).
  admin_server(admin_options o, std::shared_ptr<admin_backend> backend);
  ~admin_server();
  void stop();
  // Bound ports (useful with port 0).
  int tcp_port() const;
  int http_port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// One response line for a request line (parsing, dispatch and error wrapping).
std::string admin_answer(admin_backend& backend, const std::string& line, bool need_token,
                         const std::string& token);

}  // namespace shoal
