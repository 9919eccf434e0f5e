#pragma once
// One real nats-server with JetStream (files in a temp dir) for the cluster tests, and a link to
// it once it answers.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "../unit/temp_files.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "wait_for.hpp"

namespace shoal::testing {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One nats-server with JetStream, killed when the test ends.
struct nats_server {
  temp_dir dir;
  int port = free_port();
  pid_t pid = -1;
  // `config`: lines of a server config file (e.g. "max_payload: 4096"), for what has no flag.
  explicit nats_server(const std::string& config = {}) {
    const std::string p = std::to_string(port), store = (dir.path() / "js").string();
    const std::string conf = (dir.path() / "server.conf").string();
    std::ofstream(conf) << config << "\n";
    pid = ::fork();
    if (pid == 0) {
      ::execlp("nats-server", "nats-server", "-c", conf.c_str(), "-js", "-a", "127.0.0.1", "-p",
               p.c_str(), "-sd", store.c_str(), "-l", (dir.path() / "server.log").c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~nats_server() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port); }
};

// A [cluster] table naming engine `engine_id` on the one server, one replica.
inline cluster_decl one_server_cluster(const nats_server& s, const std::string& engine_id) {
  cluster_decl c;
  c.enabled = true;
  c.servers = {s.url()};
  c.replicas = 1;
  c.engine_id = engine_id;
  return c;
}

inline std::unique_ptr<jetstream_link> connect(const nats_server& s) {
  std::unique_ptr<jetstream_link> link;
  const bool up = test::wait_for(
      [&] {
        try {
          cluster_decl c;
          c.servers = {s.url()};
          link = std::make_unique<jetstream_link>(c, "test");
          return true;
        } catch (const cluster_error&) {
          return false;
        }
      },
      std::chrono::seconds(20));
  REQUIRE(up);
  return link;
}

// A server, a link to it and a stream with direct gets for engine `engine_id`.
struct one_stream {
  nats_server s;
  std::unique_ptr<jetstream_link> link = connect(s);
  cluster_decl c;
  explicit one_stream(const std::string& engine_id) : c(one_server_cluster(s, engine_id)) {
    link->ensure_stream(c);
  }
};

}  // namespace shoal::testing
