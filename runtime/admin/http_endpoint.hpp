#pragma once
// http_endpoint: a loopback HTTP/1.1 endpoint (Boost.Beast) on the admin server's io thread,
// serving what a route function answers: GET /metrics for Prometheus, and the operator console
// (console.hpp). A request that does not parse answers 400 and closes; keep-alive is honoured.
// Like the admin endpoints it has its own connection cap (a full endpoint answers 503 and
// closes) and an idle timeout: reading each request and writing each answer must finish within
// it, else the connection closes. An answer may be a stream of server-sent events instead: the
// connection then stays open, sending an event every interval, until the client goes.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "runtime/admin/asio.hpp"

namespace shoal {

namespace admin_detail {
struct http_shared;  // what sessions use; they may outlive http_endpoint during teardown
}

struct http_request {
  std::string method;                         // "GET", "POST", …
  std::string path;                           // without the query
  std::map<std::string, std::string> params;  // the query, percent-decoded
  std::string authorization;                  // the Authorization header, if any
  std::string host;                           // the Host header
  std::string origin;                         // the Origin header, if any (a browser's request)
};

struct http_answer {
  http_answer() = default;
  http_answer(unsigned s, std::string type, std::string text)
      : status(s), content_type(std::move(type)), body(std::move(text)) {}

  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // the Allow header of a 405
  // Server-sent events: when set, the answer is text/event-stream and each `every` one event
  // `data: events()` is sent (events() runs on the io thread; it may throw to end the stream).
  std::function<std::string()> events;
  std::chrono::milliseconds every{1000};
  // Sent this long after the request, then the connection closes (a refused token: each guess
  // costs its delay and a new connection).
  std::chrono::milliseconds delay{0};
};

using http_route = std::function<http_answer(const http_request&)>;

struct http_endpoint_options {
  std::string name = "http";  // in log lines and the 503 answer ("metrics", "console")
  std::size_t max_connections = 64;
  std::chrono::milliseconds idle_timeout{10'000};
};

class http_endpoint {
 public:
  // Binds at once (throws boost::system::system_error) and accepts on io.
  http_endpoint(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
                http_route route, http_endpoint_options o);
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  int port() const;

 private:
  void accept();

  std::shared_ptr<admin_detail::http_shared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace shoal
