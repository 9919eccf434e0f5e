#include "runtime/graph/endpoints.hpp"

#include <arpa/inet.h>

namespace shoal {
namespace {

// Empty when `port` is a decimal port in 1..65535; else why not. Port 0 would bind a port
// nobody is told about.
std::string port_problem(const std::string& port) {
  if (port.empty()) return "no port after ':'";
  if (port.find_first_not_of("0123456789") != std::string::npos)
    return "port \"" + port + "\" is not a number";
  if (port.size() > 5 || std::stoi(port) > 65535 || std::stoi(port) == 0)
    return "port " + port + " is outside 1..65535";
  return "";
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

const char* const endpoint_forms = " is not a ZeroMQ endpoint (tcp://host:port, ipc://path)";

}  // namespace

std::string zmq_endpoint_problem(const std::string& e, endpoint_role role) {
  const std::string quoted = "\"" + e + "\"";
  if (starts_with(e, "ipc://") || starts_with(e, "inproc://"))
    return e.find("://") + 3 < e.size() ? "" : quoted + endpoint_forms;
  if (!starts_with(e, "tcp://")) return quoted + endpoint_forms;
  const std::string rest = e.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return quoted + endpoint_forms;
  const std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (role == endpoint_role::connect && host == "*")
    return quoted + ": connecting needs a host, not *";
  if (port == "*")
    return role == endpoint_role::bind ? "" : quoted + ": connecting needs a port, not *";
  const std::string why = port_problem(port);
  return why.empty() ? "" : quoted + ": " + why;
}

std::string loopback_problem(const std::string& hostport) {
  const std::string quoted = "\"" + hostport + "\"";
  const auto colon = hostport.rfind(':');
  in_addr addr{};
  if (colon == std::string::npos ||
      inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr) != 1 ||
      (ntohl(addr.s_addr) >> 24) != 127)
    return quoted + " is not a loopback HOST:PORT such as \"127.0.0.1:7070\"";
  const std::string why = port_problem(hostport.substr(colon + 1));
  return why.empty() ? "" : quoted + ": " + why;
}

std::optional<tcp_listener> tcp_listener_of_endpoint(const std::string& e) {
  if (!starts_with(e, "tcp://")) return std::nullopt;
  const auto colon = e.rfind(':');
  const std::string port = e.substr(colon + 1);
  if (port == "*") return std::nullopt;
  return tcp_listener{e.substr(6, colon - 6), std::stoi(port)};
}

tcp_listener tcp_listener_of_hostport(const std::string& hostport) {
  const auto colon = hostport.rfind(':');
  return {hostport.substr(0, colon), std::stoi(hostport.substr(colon + 1))};
}

bool same_port(const tcp_listener& a, const tcp_listener& b) {
  auto every = [](const std::string& h) { return h == "*" || h == "0.0.0.0"; };
  return a.port == b.port && (a.host == b.host || every(a.host) || every(b.host));
}

}  // namespace shoal
