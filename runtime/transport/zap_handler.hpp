#pragma once
// zap_handler: who may connect to the engine's CURVE endpoints (publish, publish_tracked,
// snapshot). ZeroMQ asks the ZAP handler of the sockets' context (RFC 27, a REP socket at
// inproc://zeromq.zap.01) about every CURVE handshake; this one lets in the client keys found in
// the allowed_clients directory, read again every second and on reload() (admin `reload-keys`),
// so a key removed from the directory is refused from the next handshake on and one added is let
// in. A client without CURVE never reaches ZAP (its handshake fails on the mechanism): each
// secured socket's monitor reports that. Every refusal is counted, and logged once per key.
//
// A refusal takes effect at a handshake: a subscriber already connected keeps its session until
// it reconnects. So a reload that takes keys out calls on_keys_removed(): the engine has its
// publish endpoint close every session (publisher::drop_sessions), the allowed reconnect.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "runtime/transport/curve_keys.hpp"

namespace shoal {

class zap_handler {
 public:
  // Binds the ZAP endpoint of ctx; throws curve_error when the directory cannot be read.
  zap_handler(zmq::context_t& ctx, std::string allowed_dir, curve_pair server);
  ~zap_handler();
  zap_handler(const zap_handler&) = delete;
  zap_handler& operator=(const zap_handler&) = delete;

  // Makes sock a CURVE server with the engine's key (call before bind, from the thread that
  // owns sock) and watches its handshakes; `what` names it in logs ("publish").
  void secure(zmq::socket_t& sock, const std::string& what);
  // Reads the directory now; the number of keys allowed.
  std::size_t reload();
  // Called (from the handler's thread, or reload()'s caller) when a reload took keys out.
  void on_keys_removed(std::function<void()> f);

  struct counts {
    std::uint64_t accepted = 0, unknown_key = 0, no_curve = 0;
    std::size_t keys = 0;
  };
  counts counters() const;
  const std::string& server_public_key() const { return server_.public_key; }

 private:
  void run();
  void answer(zmq::socket_t& rep);
  void monitor_event(zmq::socket_t& mon, const std::string& what);

  zmq::context_t& ctx_;
  std::string dir_;
  curve_pair server_;
  mutable std::mutex mu_;
  std::mutex reload_mu_;  // held across a reload's reading and its swap
  std::set<std::string> allowed_;
  std::set<std::string> logged_;  // refused keys already logged
  std::function<void()> on_removed_;
  std::vector<std::pair<std::string, std::string>> pending_monitors_;  // (endpoint, what)
  std::atomic<std::uint64_t> accepted_{0}, unknown_key_{0}, no_curve_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> monitors_{0};
  std::thread thread_;
};

}  // namespace shoal
