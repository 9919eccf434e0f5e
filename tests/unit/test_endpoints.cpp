// Addresses in a config: ZeroMQ endpoints for binding and connecting, loopback HOST:PORT
// listeners, and ports that must be real ports (never truncated, never a stoi error).
#include <catch2/catch.hpp>

#include "runtime/graph/endpoints.hpp"

using namespace shoal;
using Catch::Matchers::Contains;

TEST_CASE("ZeroMQ endpoints: forms, wildcards by role, ports in 1..65535", "[endpoints]") {
  const auto bind = endpoint_role::bind, connect = endpoint_role::connect;
  for (const char* ok : {"tcp://127.0.0.1:5556", "tcp://*:1", "tcp://127.0.0.1:65535",
                         "tcp://[::1]:5556", "ipc:///tmp/shoal.sock", "inproc://x"}) {
    CHECK(zmq_endpoint_problem(ok, bind).empty());
  }
  CHECK(zmq_endpoint_problem("tcp://127.0.0.1:*", bind).empty());
  CHECK_THAT(zmq_endpoint_problem("tcp://127.0.0.1:*", connect), Contains("needs a port, not *"));
  CHECK_THAT(zmq_endpoint_problem("tcp://*:5556", connect), Contains("needs a host, not *"));
  CHECK(zmq_endpoint_problem("tcp://127.0.0.1:5556", connect).empty());
  CHECK(zmq_endpoint_problem("tcp://127.0.0.1:99999", bind) ==
        "\"tcp://127.0.0.1:99999\": port 99999 is outside 1..65535");
  CHECK_THAT(zmq_endpoint_problem("tcp://127.0.0.1:0", bind), Contains("port 0 is outside"));
  CHECK_THAT(zmq_endpoint_problem("tcp://127.0.0.1:4294967297", bind), Contains("is outside"));
  CHECK_THAT(zmq_endpoint_problem("tcp://127.0.0.1:abc", bind),
             Contains("\"abc\" is not a number"));
  CHECK_THAT(zmq_endpoint_problem("tcp://127.0.0.1:", bind), Contains("no port after ':'"));
  for (const char* bad :
       {"nope", "tcp://", "tcp://:5556", "tcp://127.0.0.1", "ipc://", "udp://x:1"})
    CHECK_THAT(zmq_endpoint_problem(bad, bind), Contains("is not a ZeroMQ endpoint"));
}

TEST_CASE("loopback listeners: an IPv4 loopback address and a real port", "[endpoints]") {
  CHECK(loopback_problem("127.0.0.1:7070").empty());
  CHECK(loopback_problem("127.1.2.3:1").empty());
  CHECK(loopback_problem("127.0.0.1:99999") ==
        "\"127.0.0.1:99999\": port 99999 is outside 1..65535");
  CHECK(loopback_problem("127.0.0.1:abc") == "\"127.0.0.1:abc\": port \"abc\" is not a number");
  CHECK(loopback_problem("127.0.0.1:") == "\"127.0.0.1:\": no port after ':'");
  CHECK_THAT(loopback_problem("127.0.0.1:0"), Contains("port 0 is outside"));
  for (const char* bad : {":", ":7070", "7070", "localhost:7070", "127.999.0.1:7070",
                          "10.0.0.1:7070", "0.0.0.0:7070", "127.0.0:7070", "[::1]:7070"})
    CHECK_THAT(loopback_problem(bad), Contains("is not a loopback HOST:PORT"));
}

TEST_CASE("listeners on one port: same host, or a host binding every interface", "[endpoints]") {
  const auto pub = *tcp_listener_of_endpoint("tcp://127.0.0.1:7001");
  CHECK(same_port(pub, tcp_listener_of_hostport("127.0.0.1:7001")));
  CHECK_FALSE(same_port(pub, tcp_listener_of_hostport("127.0.0.1:7002")));
  CHECK_FALSE(same_port(pub, tcp_listener_of_hostport("127.0.0.2:7001")));
  CHECK(same_port(*tcp_listener_of_endpoint("tcp://*:7001"),
                  tcp_listener_of_hostport("127.0.0.2:7001")));
  CHECK_FALSE(tcp_listener_of_endpoint("tcp://127.0.0.1:*"));
  CHECK_FALSE(tcp_listener_of_endpoint("ipc:///tmp/x"));
}
