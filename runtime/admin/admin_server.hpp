#pragma once
// admin_server: the operator's sockets (design §9), served by Boost.Asio on one thread of its
// own: a Unix socket (mode 0600) and, when configured, loopback TCP where every request must
// carry the token (compared in constant time), loopback HTTP serving GET /metrics and the
// operator console (http_endpoint.hpp, console.hpp). The line protocol is admin_protocol.hpp; a
// line over max_line bytes is refused and the connection closed.
//
// Nobody can knock it over: every byte sequence gets a JSON answer, nothing a connection does
// leaves its handler (guarded.hpp), each endpoint has its own connection cap (a TCP flood
// never locks out the Unix socket), idle connections close, and a bad token costs a growing
// delay and a log line (token_throttle.hpp).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "runtime/admin/admin_protocol.hpp"
#include "runtime/admin/token_throttle.hpp"

namespace shoal {

struct admin_options {
  std::string unix_path;  // empty: no Unix socket
  std::string tcp;        // "127.0.0.1:PORT" or empty
  std::string token;      // required on TCP
  std::string http;       // "127.0.0.1:PORT" for GET /metrics, or empty
  std::string console;    // "127.0.0.1:PORT" for the operator console (console.hpp), or empty
  std::size_t max_line = std::size_t{1} << 20;
  // A request must arrive, and an answer be taken, within this long ([engine]
  // admin_idle_timeout, metrics_idle_timeout).
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds http_idle_timeout{10'000};
  // Open connections per endpoint; one more is told the endpoint is full and closed.
  std::size_t max_unix_connections = 128;
  std::size_t max_tcp_connections = 64;
  std::size_t max_http_connections = 64;
  token_throttle::options token_delay;
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
  int console_port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace shoal
