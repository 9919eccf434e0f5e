#pragma once
// The network addresses a config names, checked when it is loaded: a typo or an impossible
// port is a config error then, not a crash, a failed bind or a silently different port when
// the engine starts.

#include <optional>
#include <string>

namespace shoal {

// Binding takes "tcp://host:*" (any free port); connecting needs a real host and port.
enum class endpoint_role { bind, connect };

// Empty when `e` is a ZeroMQ endpoint (tcp://host:port, ipc://path, inproc://name) usable
// in `role`; otherwise what is wrong with it, naming it.
std::string zmq_endpoint_problem(const std::string& e, endpoint_role role);

// Empty when `hostport` is "A.B.C.D:PORT" with an IPv4 loopback address; otherwise what is
// wrong with it, naming it. (The admin TCP and metrics listeners have no TLS: loopback only.)
std::string loopback_problem(const std::string& hostport);

// The TCP host and port a listener binds, to find two listeners of one engine on one port.
struct tcp_listener {
  std::string host;  // as written; "*" or "0.0.0.0" binds every interface
  int port = 0;
};
// Of a valid bind endpoint "tcp://host:port"; nullopt for ipc, inproc and port "*".
std::optional<tcp_listener> tcp_listener_of_endpoint(const std::string& e);
// Of a valid loopback "host:port".
tcp_listener tcp_listener_of_hostport(const std::string& hostport);
bool same_port(const tcp_listener& a, const tcp_listener& b);

}  // namespace shoal
