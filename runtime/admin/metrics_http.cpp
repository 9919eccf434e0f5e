#include "runtime/admin/metrics_http.hpp"

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

struct admin_detail::metrics_shared {
  std::function<std::string()> metrics_text;
  metrics_http_options opt;
  connection_slots slots;
};

namespace {

// A scrape request has no body and a few headers; anything bigger is not one.
constexpr std::uint32_t max_request_bytes = 8 * 1024;

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket s, std::shared_ptr<const admin_detail::metrics_shared> sh,
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
                           "metrics read", [&] { self->on_read(ec); }, [&] { self->close(); });
                     });
  }

  void on_read(beast::error_code ec) {
    if (is_parse_error(ec)) {
      respond(http::status::bad_request, "bad request: try GET /metrics\n", 11, false);
      return;
    }
    if (ec) {
      close();  // the client closed, or the idle timeout did (beast::error::timeout)
      return;
    }
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    const auto path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      respond(http::status::not_found, "not found: try GET /metrics\n", req.version(),
              req.keep_alive());
    } else if (req.method() != http::verb::get) {
      res_.set(http::field::allow, "GET");
      respond(http::status::method_not_allowed, "method not allowed: try GET /metrics\n",
              req.version(), req.keep_alive());
    } else {
      std::string text;
      try {
        text = sh_->metrics_text();
      } catch (const std::exception& e) {
        spdlog::error("admin: metrics: {}", escaped(e.what()));
        respond(http::status::internal_server_error, "internal error\n", req.version(), false);
        return;
      }
      respond(http::status::ok, std::move(text), req.version(), req.keep_alive());
    }
  }

  void respond(http::status status, std::string body, unsigned version, bool keep_alive) {
    res_.result(status);
    res_.version(version);
    res_.keep_alive(keep_alive);
    res_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res_.body() = std::move(body);
    res_.prepare_payload();
    stream_.expires_after(sh_->opt.idle_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        guarded(
                            "metrics write",
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
    beast::error_code ignore;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignore);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<const admin_detail::metrics_shared> sh_;
  connection_slots::slot slot_;
  beast::flat_buffer buf_{max_request_bytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

}  // namespace

metrics_http::metrics_http(asio::io_context& io, const tcp::endpoint& at,
                           std::function<std::string()> metrics_text, metrics_http_options o)
    : shared_(std::make_shared<admin_detail::metrics_shared>(admin_detail::metrics_shared{
          std::move(metrics_text), o, connection_slots(o.max_connections)})),
      acceptor_(io, at) {
  accept();
}

metrics_http::~metrics_http() = default;

int metrics_http::port() const { return acceptor_.local_endpoint().port(); }

void metrics_http::accept() {
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
        "metrics accept",
        [&] {
          if (auto slot = shared_->slots.try_take()) {
            std::make_shared<http_session>(std::move(s), shared_, std::move(slot))->start();
          } else {
            // Full: say so and close, before reading anything (a fresh socket's send buffer
            // takes this short answer without blocking).
            const std::string body = "too many metrics connections (" +
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
