#pragma once
// line_session: one admin connection (Unix socket or TCP) speaking the line protocol
// (admin_protocol.hpp): read a line, answer it, repeat. The next line is read only after the
// answer is written, so a client that never reads parks nothing but its own session, and only
// until its deadline. Private to admin_server.cpp.
//
// Deadlines: reading a request and writing an answer must each finish within the endpoint's
// idle timeout, else the connection closes (an idle reader is told why first), giving its slot
// back. A bad token on TCP is answered after the throttle's delay, on an asio timer (the io
// thread serves everyone else meanwhile), and the connection then closes.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "runtime/admin/admin_protocol.hpp"
#include "runtime/admin/asio.hpp"
#include "runtime/admin/connection_slots.hpp"
#include "runtime/admin/guarded.hpp"
#include "runtime/admin/token_throttle.hpp"

namespace shoal::admin_detail {

namespace asio = boost::asio;

// What the sessions of one endpoint share; owned by the server, which outlives them.
struct line_endpoint {
  std::string name;  // "Unix socket" or "TCP port", for messages and logs
  admin_backend* backend = nullptr;
  const std::string* token = nullptr;  // required on this endpoint; nullptr: none
  token_throttle* throttle = nullptr;  // set with token
  std::size_t max_line = std::size_t{1} << 20;
  std::chrono::milliseconds idle_timeout{60'000};
};

inline std::string peer_of(const boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("an unknown peer")
            : ep.address().to_string() + ":" + std::to_string(ep.port());
}
inline std::string peer_of(const boost::asio::local::stream_protocol::socket&) {
  return "the Unix socket";
}

template <class Socket>
class line_session : public std::enable_shared_from_this<line_session<Socket>> {
 public:
  line_session(Socket s, const line_endpoint& ep, connection_slots::slot slot)
      : sock_(std::move(s)),
        ep_(ep),
        buf_(ep.max_line),
        deadline_(sock_.get_executor()),
        delay_(sock_.get_executor()),
        slot_(std::move(slot)) {}

  void start() { read(); }

 private:
  using error_code = boost::system::error_code;
  enum class phase { reading, writing, delaying, closing };

  // A closing connection gets this long (at most) to take its last answer.
  static constexpr std::chrono::milliseconds linger{2000};

  // The deadline holds the session weakly: it ends a phase, never keeps a session alive.
  void arm(std::chrono::milliseconds d) {
    deadline_.expires_after(d);
    deadline_.async_wait([weak = this->weak_from_this()](error_code ec) {
      auto self = weak.lock();
      // A deadline re-armed after it fired is not due yet.
      if (ec || !self || self->deadline_.expiry() > std::chrono::steady_clock::now()) {
        return;
      }
      guarded(
          "admin deadline", [&] { self->on_deadline(); }, [&] { self->close(); });
    });
  }

  void on_deadline() {
    if (phase_ == phase::reading) {
      error_code ignore;
      sock_.cancel(ignore);  // the pending read completes as aborted and is ignored
      const auto secs = std::chrono::duration<double>(ep_.idle_timeout).count();
      write_and_close(error_line("closed after " + fmt::format("{:g}", secs) +
                                 " s without a complete request (idle timeout)"));
    } else {
      close();  // a client that does not read its answer, or a closing one that lingers
    }
  }

  void read() {
    phase_ = phase::reading;
    arm(ep_.idle_timeout);
    asio::async_read_until(
        sock_, buf_, '\n', [self = this->shared_from_this()](error_code ec, std::size_t n) {
          guarded(
              "admin read", [&] { self->on_read(ec, n); }, [&] { self->close(); });
        });
  }

  void on_read(error_code ec, std::size_t n) {
    if (phase_ != phase::reading) {
      return;  // the idle deadline took over
    }
    if (ec == asio::error::not_found) {  // the line outgrew the buffer's limit
      write_and_close(
          error_line("request line exceeds " + std::to_string(buf_.max_size()) + " bytes"));
      return;
    }
    if (ec) {
      return;  // the client went away
    }
    std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    admin_reply r = admin_answer(*ep_.backend, line, ep_.token);
    if (r.bad_token) {
      refuse_token(std::move(r.line));
      return;
    }
    reply_ = std::move(r.line);
    write();
  }

  void write() {
    phase_ = phase::writing;
    arm(ep_.idle_timeout);
    asio::async_write(sock_, asio::buffer(reply_),
                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                        if (!ec) {
                          guarded(
                              "admin write", [&] { self->read(); }, [&] { self->close(); });
                        }
                      });
  }

  void refuse_token(std::string answer) {
    const auto v = ep_.throttle->on_failure(std::chrono::steady_clock::now());
    if (v.log) {
      spdlog::warn(
          "admin: bad or missing token on the {} from {} ({} since the last report, {} in all); "
          "answered after {} ms, doubling per failure up to {} ms",
          ep_.name, peer_of(sock_), v.unlogged, ep_.throttle->failures(), v.delay.count(),
          ep_.throttle->settings().max_delay.count());
    }
    phase_ = phase::delaying;
    deadline_.cancel();
    reply_ = std::move(answer);
    delay_.expires_after(v.delay);
    delay_.async_wait([self = this->shared_from_this()](error_code ec) {
      guarded(
          "admin token delay",
          [&] {
            if (ec) {
              self->close();
            } else {
              self->write_and_close(std::move(self->reply_));
            }
          },
          [&] { self->close(); });
    });
  }

  // Sends a last answer and closes: shut our side, then discard what the client still sends
  // (bounded in bytes and by the linger deadline) until it closes, so closing with unread
  // input does not reset the connection and swallow the answer before the client reads it.
  void write_and_close(std::string text) {
    phase_ = phase::closing;
    arm(std::min(ep_.idle_timeout, std::chrono::milliseconds(linger)));
    reply_ = std::move(text);
    asio::async_write(
        sock_, asio::buffer(reply_), [self = this->shared_from_this()](error_code ec, std::size_t) {
          if (ec) {
            self->close();
            return;
          }
          error_code ignore;
          self->sock_.shutdown(Socket::shutdown_send, ignore);
          guarded(
              "admin close", [&] { self->discard(std::size_t{16} << 20); }, [&] { self->close(); });
        });
  }

  void discard(std::size_t budget) {
    sock_.async_read_some(asio::buffer(sink_), [self = this->shared_from_this(), budget](
                                                   error_code ec, std::size_t n) {
      if (ec || n >= budget) {
        self->close();
        return;
      }
      guarded(
          "admin close", [&] { self->discard(budget - n); }, [&] { self->close(); });
    });
  }

  void close() {
    error_code ignore;
    sock_.close(ignore);
    deadline_.cancel();
    delay_.cancel();
  }

  Socket sock_;
  const line_endpoint& ep_;
  boost::asio::streambuf buf_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer delay_;
  connection_slots::slot slot_;
  phase phase_ = phase::reading;
  std::string reply_;
  std::array<char, 4096> sink_;
};

}  // namespace shoal::admin_detail
