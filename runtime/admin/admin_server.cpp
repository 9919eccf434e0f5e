#include "runtime/admin/admin_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>

#include "runtime/admin/asio.hpp"
#include "runtime/admin/guarded.hpp"
#include "runtime/admin/metrics_http.hpp"

namespace shoal {
namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint parse_loopback(const std::string& hostport, const char* what) {
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error(std::string(what) + ": expected HOST:PORT, got " + hostport);
  const auto addr = asio::ip::make_address(hostport.substr(0, colon));
  if (!addr.is_loopback())
    throw std::runtime_error(std::string(what) + ": only loopback addresses are allowed");
  return {addr, static_cast<unsigned short>(std::stoi(hostport.substr(colon + 1)))};
}

// One connection: read a line, answer it, repeat. A client that never reads only parks its own
// session (the next line is read after the answer is written).
template <class Socket>
class session : public std::enable_shared_from_this<session<Socket>> {
 public:
  session(Socket s, admin_backend& b, const std::string* token, std::size_t max_line,
          std::shared_ptr<std::atomic<int>> live)
      : sock_(std::move(s)), backend_(b), token_(token), buf_(max_line), live_(std::move(live)) {
    ++*live_;
  }
  ~session() { --*live_; }

  void start() { read(); }

 private:
  void read() {
    auto self = this->shared_from_this();
    asio::async_read_until(sock_, buf_, '\n', [self](boost::system::error_code ec, std::size_t n) {
      guarded(
          "admin read", [&] { self->on_read(ec, n); }, [&] { self->close(); });
    });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (ec == asio::error::not_found) {  // the line outgrew the buffer's limit
      write_and_close(
          error_line("request line exceeds " + std::to_string(buf_.max_size()) + " bytes"));
      return;
    }
    if (ec) {
      return;
    }
    std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    admin_reply r = admin_answer(backend_, line, token_);
    reply_ = std::move(r.line);
    asio::async_write(sock_, asio::buffer(reply_),
                      [self = this->shared_from_this(), close = r.bad_token](
                          boost::system::error_code wec, std::size_t) {
                        if (!wec && !close) {
                          guarded(
                              "admin write", [&] { self->read(); }, [&] { self->close(); });
                        }
                      });
  }

  void close() {
    boost::system::error_code ignore;
    sock_.close(ignore);
  }

  // Sends a last error and closes: shut our side, then discard what the client still sends
  // (bounded) until it closes, so closing with unread input does not reset the connection and
  // swallow the error before the client reads it.
  void write_and_close(std::string text) {
    reply_ = std::move(text);
    auto self = this->shared_from_this();
    asio::async_write(sock_, asio::buffer(reply_),
                      [self](boost::system::error_code ec, std::size_t) {
                        boost::system::error_code ignore;
                        if (ec) {
                          self->sock_.close(ignore);
                          return;
                        }
                        self->sock_.shutdown(Socket::shutdown_send, ignore);
                        self->discard(std::size_t{16} << 20);
                      });
  }

  void discard(std::size_t budget) {
    auto self = this->shared_from_this();
    sock_.async_read_some(asio::buffer(sink_),
                          [self, budget](boost::system::error_code ec, std::size_t n) {
                            boost::system::error_code ignore;
                            if (ec || n >= budget) {
                              self->sock_.close(ignore);
                              return;
                            }
                            self->discard(budget - n);
                          });
  }

  Socket sock_;
  admin_backend& backend_;
  const std::string* token_;  // required on this connection; nullptr: none
  asio::streambuf buf_;
  std::string reply_;
  std::array<char, 65536> sink_;
  std::shared_ptr<std::atomic<int>> live_;  // connections open now
};

}  // namespace

struct admin_server::impl {
  admin_options opt;
  std::shared_ptr<admin_backend> backend;
  asio::io_context io;
  std::shared_ptr<std::atomic<int>> live = std::make_shared<std::atomic<int>>(0);
  static constexpr int max_connections = 256;

  // After an accept error other than shutdown (EMFILE under a connection flood) accept again
  // a little later instead of giving up: the socket must outlive the flood.
  template <class F>
  void rearm(boost::system::error_code ec, F again) {
    if (ec == asio::error::operation_aborted) return;
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
    t->async_wait([t, again](boost::system::error_code) { again(); });
  }

  // Too many open connections: say so and close, before reading anything.
  template <class Socket>
  bool refuse_if_full(Socket& s) {
    if (*live < max_connections) return false;
    boost::system::error_code ignore;
    const std::string msg =
        error_line("too many admin connections (" + std::to_string(max_connections) + ")");
    asio::write(s, asio::buffer(msg), ignore);
    s.close(ignore);
    return true;
  }
  std::unique_ptr<stream_protocol::acceptor> unix_acceptor;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::optional<metrics_http> http;
  std::thread thread;

  void accept_unix() {
    unix_acceptor->async_accept([this](boost::system::error_code ec, stream_protocol::socket s) {
      if (ec) return rearm(ec, [this] { accept_unix(); });
      if (!refuse_if_full(s))
        guarded(
            "admin accept",
            [&] {
              std::make_shared<session<stream_protocol::socket>>(std::move(s), *backend, nullptr,
                                                                 opt.max_line, live)
                  ->start();
            },
            [] {});
      accept_unix();
    });
  }
  void accept_tcp() {
    tcp_acceptor->async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return rearm(ec, [this] { accept_tcp(); });
      if (!refuse_if_full(s))
        guarded(
            "admin accept",
            [&] {
              std::make_shared<session<tcp::socket>>(std::move(s), *backend, &opt.token,
                                                     opt.max_line, live)
                  ->start();
            },
            [] {});
      accept_tcp();
    });
  }
  // Handlers catch what they throw (guarded.hpp); this catches what would still escape, so
  // the io loop, and every endpoint with it, keeps running.
  void run() {
    for (;;) {
      try {
        io.run();
        return;  // stopped
      } catch (const std::exception& e) {
        spdlog::error("admin: {} (serving on)", escaped(e.what()));
      } catch (...) {
        spdlog::error("admin: unknown exception (serving on)");
      }
    }
  }
};

admin_server::admin_server(admin_options o, std::shared_ptr<admin_backend> backend)
    : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.opt = std::move(o);
  m.backend = std::move(backend);
  if (!m.opt.unix_path.empty()) {
    std::filesystem::remove(m.opt.unix_path);  // a stale socket from a killed run
    // Create the socket file private from the start: no window where others may connect.
    const mode_t old = ::umask(0177);
    try {
      m.unix_acceptor = std::make_unique<stream_protocol::acceptor>(
          m.io, stream_protocol::endpoint(m.opt.unix_path));
    } catch (const std::exception& e) {
      ::umask(old);
      throw std::runtime_error("cannot bind admin socket " + m.opt.unix_path + ": " + e.what());
    }
    ::umask(old);
    ::chmod(m.opt.unix_path.c_str(), 0600);
    m.accept_unix();
  }
  if (!m.opt.tcp.empty()) {
    if (m.opt.token.empty()) throw std::runtime_error("admin_tcp needs admin_token");
    m.tcp_acceptor = std::make_unique<tcp::acceptor>(m.io, parse_loopback(m.opt.tcp, "admin_tcp"));
    m.accept_tcp();
  }
  if (!m.opt.http.empty()) {
    metrics_http_options ho;
    ho.max_connections = m.opt.max_http_connections;
    ho.idle_timeout = m.opt.http_idle_timeout;
    m.http.emplace(
        m.io, parse_loopback(m.opt.http, "metrics_http"),
        [b = m.backend] { return b->metrics_text(); }, ho);
  }
  m.thread = std::thread([this] { impl_->run(); });
}

admin_server::~admin_server() { stop(); }

void admin_server::stop() {
  auto& m = *impl_;
  m.io.stop();
  if (m.thread.joinable()) m.thread.join();
  if (!m.opt.unix_path.empty()) std::filesystem::remove(m.opt.unix_path);
}

int admin_server::tcp_port() const {
  return impl_->tcp_acceptor ? impl_->tcp_acceptor->local_endpoint().port() : 0;
}
int admin_server::http_port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace shoal
