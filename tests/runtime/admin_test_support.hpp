#pragma once
// What the admin tests share: a stand-in backend, blocking clients for the Unix socket, TCP and
// HTTP (reads give up after 5 s, so a server that stopped answering fails a test instead of
// hanging it), a server on a temp dir with every endpoint, and hostile request lines.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../unit/temp_files.hpp"
#include "runtime/admin/admin_server.hpp"

namespace shoal::test {

using json = nlohmann::json;
using shoal::testing::temp_dir;

inline const std::string token = "0123456789abcdef-token";
inline const std::string get_metrics =
    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

struct stand_in_backend : admin_backend {
  json handle(const std::string& cmd, const json&) override {
    if (cmd == "version") {
      return {{"engine", "test"}};
    }
    if (cmd == "echo-bytes") {  // a refusal quoting bytes that are not UTF-8
      throw admin_error("no node named \"\xff\xfe\"");
    }
    if (cmd == "throw-int") {
      throw 42;
    }
    throw admin_error("unknown command \"" + cmd + "\"");
  }
  std::string metrics_text() override {
    if (fail_metrics) {
      throw std::runtime_error("metrics failed \xff");
    }
    return "shoal_test_total 1\n";
  }
  std::atomic<bool> fail_metrics = false;
};

// The answer is one line of strict JSON (nlohmann's parser rejects invalid UTF-8).
inline json parse_answer(const std::string& line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  return json::parse(line);
}

class client {
 public:
  static client unix_socket(const std::string& path) {
    client c(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    c.connected_ = ::connect(c.fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    return c;
  }
  static client tcp(int port) {
    client c(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c.connected_ = ::connect(c.fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    return c;
  }
  client(client&& o) noexcept : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_) {}
  client& operator=(client&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(connected_, o.connected_);
    return *this;
  }
  ~client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  bool connected() const { return connected_; }
  // Something has arrived (without waiting or consuming it).
  bool has_data() const {
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }
  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Up to and including the first '\n' (or what came before the connection closed).
  std::string read_line() {
    std::string out;
    char c;
    while (::recv(fd_, &c, 1, 0) == 1) {
      out += c;
      if (c == '\n') {
        break;
      }
    }
    return out;
  }
  // Everything until the server closes (empty if it does not within the read timeout).
  std::string read_to_end(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) {
          *closed = n == 0 || errno == ECONNRESET;
        }
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  json ask(const json& req) {
    send(req.dump() + "\n");
    return parse_answer(read_line());
  }

 private:
  explicit client(int fd) : fd_(fd) {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  int fd_;
  bool connected_ = false;
};

inline std::string http_get(int port, const std::string& request) {
  client c = client::tcp(port);
  REQUIRE(c.connected());
  c.send(request);
  return c.read_to_end();
}

struct running_server {
  explicit running_server(admin_options o = {}) {
    o.unix_path = (dir.path() / "admin.sock").string();
    o.tcp = "127.0.0.1:0";
    o.token = token;
    o.http = "127.0.0.1:0";
    server = std::make_unique<admin_server>(o, backend);
  }
  std::string sock() const { return (dir.path() / "admin.sock").string(); }
  json version_over_unix() { return client::unix_socket(sock()).ask({{"cmd", "version"}}); }
  json version_over_tcp() {
    return client::tcp(server->tcp_port()).ask({{"cmd", "version"}, {"token", token}});
  }

  temp_dir dir;
  std::shared_ptr<stand_in_backend> backend = std::make_shared<stand_in_backend>();
  std::unique_ptr<admin_server> server;
};

inline std::vector<std::string> hostile_lines() {
  std::vector<std::string> lines = {
      "\xff\xfe",
      "\x80",
      "{\"cmd\": \"\xff\"}",
      "{\"cmd\": \"help\", \"pad\": \"\xc3\"}",
      "\xed\xa0\x80",                                    // an encoded surrogate
      "\"" + std::string(5000, '\xfe'),                  // a long invalid token
      std::string("{\"cmd\"\0: 1}", 11),                 // a NUL byte
      "{\"cmd\": \"version\", \"token\": \"\xff\xff\"}"  // a token that is not UTF-8
  };
  std::mt19937 rng(15);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 200; ++i) {
    std::string s(1024, ' ');
    for (auto& c : s) {
      c = static_cast<char>(byte(rng));
      if (c == '\n') {
        c = ' ';
      }
    }
    lines.push_back(s);
  }
  return lines;
}

}  // namespace shoal::test
