#include "runtime/admin/admin_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "runtime/admin/asio.hpp"
#include "runtime/admin/connection_slots.hpp"
#include "runtime/admin/console.hpp"
#include "runtime/admin/http_endpoint.hpp"
#include "runtime/admin/line_session.hpp"

namespace shoal {

namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;
using tcp = asio::ip::tcp;
using admin_detail::line_endpoint;
using admin_detail::line_session;

namespace {

tcp::endpoint parse_loopback(const std::string& hostport, const char* what) {
  const auto colon = hostport.rfind(':');
  const std::string port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
      std::stoi(port) > 65535) {
    throw std::runtime_error(std::string(what) + ": expected HOST:PORT with a port in [0, 65535]" +
                             ", got \"" + hostport + "\"");
  }
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(hostport.substr(0, colon), ec);
  if (ec || !addr.is_loopback()) {
    throw std::runtime_error(std::string(what) + ": only loopback addresses are allowed, got \"" +
                             hostport + "\"");
  }
  return {addr, static_cast<unsigned short>(std::stoi(port))};
}

// After an accept error other than shutdown (EMFILE under a connection flood) accept again a
// little later instead of giving up: the endpoint must outlive the flood.
template <class Again>
void accept_later(asio::io_context& io, Again again) {
  auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
  t->async_wait([t, again](boost::system::error_code) { again(); });
}

// A line endpoint: its acceptor, its own slots and what its sessions share.
template <class Protocol>
struct line_listener {
  using acceptor = typename Protocol::acceptor;
  using socket = typename Protocol::socket;

  line_listener(asio::io_context& io, const typename Protocol::endpoint& at, line_endpoint e,
                std::size_t cap)
      : io(io), ep(std::move(e)), slots(cap), acc(io, at) {}

  void accept() {
    acc.async_accept([this](boost::system::error_code ec, socket s) {
      if (ec == asio::error::operation_aborted) {
        return;
      }
      if (ec) {
        accept_later(io, [this] { accept(); });
        return;
      }
      guarded(
          "admin accept", [&] { start(std::move(s)); }, [] {});
      accept();
    });
  }

  void start(socket s) {
    if (auto slot = slots.try_take()) {
      std::make_shared<line_session<socket>>(std::move(s), ep, std::move(slot))->start();
      return;
    }
    // Full: say so and close, before reading anything (a fresh socket's send buffer takes
    // this short answer without blocking).
    boost::system::error_code ignore;
    const std::string msg = error_line("too many admin connections on the " + ep.name + " (" +
                                       std::to_string(slots.cap()) + " open); try again later");
    asio::write(s, asio::buffer(msg), ignore);
    s.close(ignore);
  }

  asio::io_context& io;
  line_endpoint ep;
  connection_slots slots;
  acceptor acc;
};

// GET /metrics: the Prometheus text exposition.
http_answer metrics_answer(admin_backend& backend, const http_request& r) {
  if (r.path != "/metrics")
    return {404, "text/plain; charset=utf-8", "not found: try GET /metrics\n"};
  if (r.method != "GET") {
    http_answer a{405, "text/plain; charset=utf-8", "method not allowed: try GET /metrics\n"};
    a.allow = "GET";
    return a;
  }
  return {200, "text/plain; version=0.0.4; charset=utf-8", backend.metrics_text()};
}

}  // namespace

struct admin_server::impl {
  admin_options opt;
  std::shared_ptr<admin_backend> backend;
  token_throttle throttle;
  // The io context before what uses it: endpoints go first on destruction.
  asio::io_context io;
  std::optional<line_listener<stream_protocol>> unix_listener;
  std::optional<line_listener<tcp>> tcp_listener;
  std::optional<http_endpoint> http;
  std::optional<http_endpoint> console;
  std::thread thread;

  line_endpoint endpoint(std::string name, const std::string* token) {
    line_endpoint e;
    e.name = std::move(name);
    e.backend = backend.get();
    e.token = token;
    e.throttle = token ? &throttle : nullptr;
    e.max_line = opt.max_line;
    e.idle_timeout = opt.idle_timeout;
    return e;
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
  m.throttle = token_throttle(m.opt.token_delay);
  if (!m.opt.tcp.empty()) {
    if (m.opt.token.empty()) {
      throw std::runtime_error("admin_tcp needs admin_token");
    }
    const auto at = parse_loopback(m.opt.tcp, "admin_tcp");
    try {
      m.tcp_listener.emplace(m.io, at, m.endpoint("TCP port", &m.opt.token),
                             m.opt.max_tcp_connections);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot bind admin_tcp " + m.opt.tcp + ": " + e.what());
    }
    m.tcp_listener->accept();
  }
  // Loopback HTTP: Prometheus's GET /metrics, and the operator console.
  auto serve_http = [&](std::optional<http_endpoint>& out, const std::string& where,
                        const char* key, const char* name, http_route route) {
    if (where.empty()) return;
    const auto at = parse_loopback(where, key);
    http_endpoint_options ho;
    ho.name = name;
    ho.max_connections = m.opt.max_http_connections;
    ho.idle_timeout = m.opt.http_idle_timeout;
    try {
      out.emplace(m.io, at, std::move(route), ho);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("cannot bind ") + key + " " + where + ": " + e.what());
    }
  };
  serve_http(m.http, m.opt.http, "metrics_http", "metrics",
             [b = m.backend](const http_request& r) { return metrics_answer(*b, r); });
  if (!m.opt.console.empty() && m.opt.token.size() < 16)
    throw std::runtime_error("console needs admin_token of at least 16 characters");
  serve_http(m.console, m.opt.console, "console", "console",
             console_route(m.backend, m.opt.token, &m.throttle));
  // The Unix socket last: its file appearing tells a client (and the tests) that every endpoint
  // is bound.
  if (!m.opt.unix_path.empty()) {
    std::filesystem::remove(m.opt.unix_path);  // a stale socket from a killed run
    // Create the socket file private from the start: no window where others may connect.
    const mode_t old = ::umask(0177);
    try {
      m.unix_listener.emplace(m.io, stream_protocol::endpoint(m.opt.unix_path),
                              m.endpoint("Unix socket", nullptr), m.opt.max_unix_connections);
    } catch (const std::exception& e) {
      ::umask(old);
      throw std::runtime_error("cannot bind admin socket " + m.opt.unix_path + ": " + e.what());
    }
    ::umask(old);
    ::chmod(m.opt.unix_path.c_str(), 0600);
    m.unix_listener->accept();
  }
  m.thread = std::thread([this] { impl_->run(); });
}

admin_server::~admin_server() { stop(); }

void admin_server::stop() {
  auto& m = *impl_;
  m.io.stop();
  if (m.thread.joinable()) {
    m.thread.join();
  }
  if (!m.opt.unix_path.empty()) {
    std::filesystem::remove(m.opt.unix_path);
  }
}

int admin_server::tcp_port() const {
  return impl_->tcp_listener ? impl_->tcp_listener->acc.local_endpoint().port() : 0;
}
int admin_server::http_port() const { return impl_->http ? impl_->http->port() : 0; }
int admin_server::console_port() const { return impl_->console ? impl_->console->port() : 0; }

}  // namespace shoal
