#pragma once
// admin_server: the operator's socket (design §9). Boost.Asio on its own thread: a Unix socket
// (mode 0600) and, when configured, loopback TCP where every request must carry the token
// (compared in constant time; a connection that fails it gets an error and is closed).
// The line protocol is admin_protocol.hpp; a line over 1 MiB is refused and the connection
// closed. Optionally it also serves the Prometheus text on loopback HTTP (GET /metrics,
// metrics_http.hpp).
// Nothing a connection sends or causes leaves its handler (guarded.hpp), so no client can stop
// the io loop that serves every endpoint.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "runtime/admin/admin_protocol.hpp"

namespace shoal {

struct admin_options {
  std::string unix_path;  // empty: no Unix socket
  std::string tcp;        // "127.0.0.1:PORT" or empty
  std::string token;      // required on TCP
  std::string http;       // "127.0.0.1:PORT" for GET /metrics, or empty
  std::size_t max_line = std::size_t{1} << 20;
  // GET /metrics (metrics_http.hpp): a request must arrive, and an answer be taken, within
  // this long; open connections beyond the cap get 503 and are closed.
  std::chrono::milliseconds http_idle_timeout{10'000};
  std::size_t max_http_connections = 64;
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

}  // namespace shoal
