#pragma once
// A TCP proxy on loopback for the cluster tests: one client's connection to a nats-server can be
// lost (its bytes dropped both ways, as a network that stops carrying them) while other clients
// reach the same server directly. One server process cannot do that by itself.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace shoal::testing {

class tcp_proxy {
 public:
  // Listens on a free loopback port and forwards each connection to 127.0.0.1:target_port.
  explicit tcp_proxy(int target_port) : target_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("tcp_proxy: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~tcp_proxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    for (const auto& p : pairs_) {
      ::close(p.first);
      ::close(p.second);
    }
  }
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  // Lost: every connection's bytes are read and dropped, both ways (new connections too), so
  // a client's requests time out and its messages never arrive.
  void lose() { losing_ = true; }
  // Back: the connections that lost bytes are closed (what they carry no longer makes sense to
  // either side) and new ones are forwarded; the client reconnects. Takes effect at the proxy
  // thread's next turn (within 20 ms), which forwards nothing of the old ones.
  void restore() {
    std::lock_guard lock(mu_);
    cut_ = true;
  }

 private:
  void run() {
    std::vector<char> buf(64 * 1024);
    while (!stop_) {
      {
        std::lock_guard lock(mu_);
        if (std::exchange(cut_, false)) {
          for (const auto& p : pairs_) {
            ::close(p.first);
            ::close(p.second);
          }
          pairs_.clear();
          losing_ = false;
        }
      }
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& p : pairs_) {
        fds.push_back({p.first, POLLIN, 0});
        fds.push_back({p.second, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      std::vector<std::pair<int, int>> keep;
      for (std::size_t i = 0; i < pairs_.size(); ++i) {  // fds holds 2 entries for each
        const auto [client, server] = pairs_[i];
        bool open = true;
        for (const auto& [from, to, f] : {std::tuple{client, server, fds[1 + 2 * i]},
                                          std::tuple{server, client, fds[2 + 2 * i]}}) {
          if (!open || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
          const ssize_t n = ::read(from, buf.data(), buf.size());
          if (n <= 0) {
            open = false;
          } else if (!losing_ && !write_all(to, buf.data(), static_cast<std::size_t>(n))) {
            open = false;
          }
        }
        if (open) {
          keep.emplace_back(client, server);
        } else {
          ::close(client);
          ::close(server);
        }
      }
      pairs_ = std::move(keep);
      if (fds[0].revents & POLLIN) accept_one();  // after: fds holds no entry for it
    }
  }
  void accept_one() {
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(target_));
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    pairs_.emplace_back(client, server);
  }
  static bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  const int target_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false}, losing_{false};
  std::mutex mu_;
  bool cut_ = false;                        // under mu_
  std::vector<std::pair<int, int>> pairs_;  // client, server: the proxy thread's
};

}  // namespace shoal::testing
