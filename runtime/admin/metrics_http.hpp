#pragma once
// metrics_http: the Prometheus scrape endpoint, GET /metrics on loopback HTTP (Boost.Beast).
// Other paths answer 404, other methods on /metrics 405, requests that do not parse 400 (then
// the connection closes); keep-alive is honoured. Like the admin endpoints it has its own
// connection cap (a full endpoint answers 503 and closes) and an idle timeout: reading each
// request and writing each answer must finish within it, else the connection closes.
// Runs on the admin server's io thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "runtime/admin/asio.hpp"

namespace shoal {

namespace admin_detail {
struct metrics_shared;  // what sessions use; they may outlive metrics_http during teardown
}

struct metrics_http_options {
  std::size_t max_connections = 64;
  std::chrono::milliseconds idle_timeout{10'000};
};

class metrics_http {
 public:
  // Binds at once (throws boost::system::system_error) and accepts on io.
  metrics_http(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
               std::function<std::string()> metrics_text, metrics_http_options o);
  ~metrics_http();
  metrics_http(const metrics_http&) = delete;
  metrics_http& operator=(const metrics_http&) = delete;

  int port() const;

 private:
  void accept();

  std::shared_ptr<admin_detail::metrics_shared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace shoal
