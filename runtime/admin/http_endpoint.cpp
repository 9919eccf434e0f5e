#include "runtime/admin/http_endpoint.hpp"

#include <spdlog/spdlog.h>

// After asio.hpp (included by the header): Boost 1.74 needs <utility> before Asio.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string_view>

#include "runtime/admin/connection_slots.hpp"
#include "runtime/admin/guarded.hpp"

namespace shoal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct admin_detail::http_shared {
  http_route route;
  http_endpoint_options opt;
  connection_slots slots;
};

namespace {

// Requests here have no body to speak of and a few headers; anything bigger is not one.
constexpr std::uint32_t max_request_bytes = 8 * 1024;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query_params(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty())
      out[percent_decoded(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket s, std::shared_ptr<const admin_detail::http_shared> sh,
               connection_slots::slot slot)
      : stream_(std::move(s)), sh_(std::move(sh)), slot_(std::move(slot)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(max_request_bytes);
    parser_->body_limit(max_request_bytes);
    stream_.expires_after(sh_->opt.idle_timeout);
    http::async_read(stream_, buf_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       guarded(
                           "http read", [&] { self->on_read(ec); }, [&] { self->close(); });
                     });
  }

  void on_read(beast::error_code ec) {
    if (is_parse_error(ec)) {
      respond({400, "text/plain; charset=utf-8", "bad request\n"}, 11, false);
      return;
    }
    if (ec) {
      close();  // the client closed, or the idle timeout did (beast::error::timeout)
      return;
    }
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    const auto q = target.find('?');
    http_request r;
    r.method = std::string(req.method_string());
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.params = query_params(target.substr(q + 1));
    if (const auto it = req.find(http::field::authorization); it != req.end())
      r.authorization = std::string(it->value());
    if (const auto it = req.find(http::field::host); it != req.end())
      r.host = std::string(it->value());
    if (const auto it = req.find(http::field::origin); it != req.end())
      r.origin = std::string(it->value());
    http_answer a;
    try {
      a = sh_->route(r);
    } catch (const std::exception& e) {
      spdlog::error("admin: {} {}: {}", sh_->opt.name, escaped(r.path), escaped(e.what()));
      respond({500, "text/plain; charset=utf-8", "internal error\n"}, req.version(), false);
      return;
    }
    if (a.events) {
      stream_events(std::move(a));
      return;
    }
    if (a.delay.count() > 0) {
      if (!timer_) timer_.emplace(stream_.get_executor());
      timer_->expires_after(a.delay);
      timer_->async_wait([self = shared_from_this(), a = std::move(a),
                          version = req.version()](beast::error_code ec) mutable {
        guarded(
            "http delay",
            [&] {
              if (ec) {
                self->close();
                return;
              }
              self->respond(std::move(a), version, false);
            },
            [&] { self->close(); });
      });
      return;
    }
    respond(std::move(a), req.version(), req.keep_alive());
  }

  // Server-sent events: the header, then an event every a.every until a write fails (the
  // client went) or events() throws.
  void stream_events(http_answer a) {
    events_ = std::move(a.events);
    every_ = a.every;
    send_raw(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\n\r\n");
  }

  void send_raw(std::string text) {
    out_ = std::move(text);
    stream_.expires_after(sh_->opt.idle_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        guarded(
                            "http events",
                            [&] {
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->next_event();
                            },
                            [&] { self->close(); });
                      });
  }

  void next_event() {
    if (!timer_) timer_.emplace(stream_.get_executor());
    timer_->expires_after(every_);
    timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      guarded(
          "http events",
          [&] {
            if (ec) {
              self->close();
              return;
            }
            self->send_raw("data: " + self->events_() + "\n\n");
          },
          [&] { self->close(); });
    });
  }

  void respond(http_answer a, unsigned version, bool keep_alive) {
    res_.result(static_cast<http::status>(a.status));
    res_.version(version);
    res_.keep_alive(keep_alive);
    res_.set(http::field::content_type, a.content_type);
    if (!a.allow.empty()) res_.set(http::field::allow, a.allow);
    res_.set(http::field::cache_control, "no-store");
    // Nothing here is to be framed by another page, sniffed into another type, or load from
    // elsewhere.
    res_.set(http::field::x_frame_options, "DENY");
    res_.set("X-Content-Type-Options", "nosniff");
    res_.set("Content-Security-Policy",
             "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    res_.body() = std::move(a.body);
    res_.prepare_payload();
    stream_.expires_after(sh_->opt.idle_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        guarded(
                            "http write",
                            [&] {
                              if (ec || !self->res_.keep_alive()) {
                                self->close();
                                return;
                              }
                              self->res_ = {};
                              self->read();
                            },
                            [&] { self->close(); });
                      });
  }

  void close() {
    if (timer_) {
      boost::system::error_code ignore;
      timer_->cancel(ignore);
    }
    beast::error_code ignore;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignore);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<const admin_detail::http_shared> sh_;
  connection_slots::slot slot_;
  beast::flat_buffer buf_{max_request_bytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::function<std::string()> events_;
  std::chrono::milliseconds every_{1000};
  std::optional<asio::steady_timer> timer_;
  std::string out_;
};

}  // namespace

http_endpoint::http_endpoint(asio::io_context& io, const tcp::endpoint& at, http_route route,
                             http_endpoint_options o)
    : shared_(std::make_shared<admin_detail::http_shared>(
          admin_detail::http_shared{std::move(route), o, connection_slots(o.max_connections)})),
      acceptor_(io, at) {
  accept();
}

http_endpoint::~http_endpoint() = default;

int http_endpoint::port() const { return acceptor_.local_endpoint().port(); }

void http_endpoint::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (ec) {
      // EMFILE under a connection flood: accept again a little later, never give up.
      auto t = std::make_shared<asio::steady_timer>(acceptor_.get_executor(),
                                                    std::chrono::milliseconds(100));
      t->async_wait([this, t](boost::system::error_code) { accept(); });
      return;
    }
    guarded(
        "http accept",
        [&] {
          if (auto slot = shared_->slots.try_take()) {
            std::make_shared<http_session>(std::move(s), shared_, std::move(slot))->start();
          } else {
            // Full: say so and close, before reading anything (a fresh socket's send buffer
            // takes this short answer without blocking).
            const std::string body = "too many " + shared_->opt.name + " connections (" +
                                     std::to_string(shared_->slots.cap()) + " open)\n";
            const std::string msg =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                "Content-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            boost::system::error_code ignore;
            asio::write(s, asio::buffer(msg), ignore);
            s.close(ignore);
          }
        },
        [] {});
    accept();
  });
}

}  // namespace shoal
