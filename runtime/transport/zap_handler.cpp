#include "runtime/transport/zap_handler.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace shoal {

zap_handler::zap_handler(zmq::context_t& ctx, std::string allowed_dir, curve_pair server)
    : ctx_(ctx), dir_(std::move(allowed_dir)), server_(std::move(server)) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec))
    throw curve_error(dir_ + ": allowed_clients must be a directory of client public keys");
  if (reload() == 0)
    spdlog::warn(
        "curve: {} holds no client key yet: every subscriber is refused until one is added", dir_);
  // The REP socket is bound here, before any secured socket exists: a handshake never finds
  // the context without its handler.
  auto rep = std::make_shared<zmq::socket_t>(ctx_, zmq::socket_type::rep);
  rep->set(zmq::sockopt::linger, 0);
  rep->bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this, rep] {
    std::vector<std::pair<std::unique_ptr<zmq::socket_t>, std::string>> monitors;
    auto last_read = std::chrono::steady_clock::now();
    std::uint64_t errors = 0;
    while (!stop_) {
      // One bad turn (a signal interrupting the poll, an unreadable file) must not end the
      // handler: every later handshake would wait for an answer that never comes.
      try {
        {
          std::lock_guard lock(mu_);
          for (auto& [endpoint, what] : pending_monitors_) {
            auto mon = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
            mon->set(zmq::sockopt::linger, 0);
            mon->connect(endpoint);
            monitors.emplace_back(std::move(mon), what);
          }
          pending_monitors_.clear();
        }
        std::vector<zmq::pollitem_t> items{{rep->handle(), 0, ZMQ_POLLIN, 0}};
        for (auto& [mon, _] : monitors) items.push_back({mon->handle(), 0, ZMQ_POLLIN, 0});
        zmq::poll(items, std::chrono::milliseconds(100));
        if (items[0].revents & ZMQ_POLLIN) answer(*rep);
        for (std::size_t i = 0; i < monitors.size(); ++i)
          if (items[i + 1].revents & ZMQ_POLLIN)
            monitor_event(*monitors[i].first, monitors[i].second);
        if (std::chrono::steady_clock::now() - last_read > std::chrono::seconds(1)) {
          reload();
          last_read = std::chrono::steady_clock::now();
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;  // the engine is closing its context
        if (e.num() != EINTR && errors++ == 0)
          spdlog::error("curve: ZAP handler: {} (further errors not logged)", e.what());
      } catch (const std::exception& e) {
        if (errors++ == 0)
          spdlog::error("curve: ZAP handler: {} (further errors not logged)", e.what());
      }
    }
  });
}

zap_handler::~zap_handler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::size_t zap_handler::reload() {
  // One reload at a time (the handler's own, every second, and admin reload-keys): an older
  // reading of the directory never replaces a newer one.
  std::lock_guard reading(reload_mu_);
  std::string problems;
  std::set<std::string> keys;
  try {
    keys = read_allowed_keys(dir_, &problems);
  } catch (const curve_error& e) {
    // A directory that cannot be listed keeps the keys it had: refusing everyone (and cutting
    // every session) because of a passing error would be worse.
    const std::size_t kept = counters().keys;
    spdlog::warn("curve: {}; keeping the {} keys read before", e.what(), kept);
    return kept;
  }
  std::function<void()> removed;
  std::size_t count = 0;
  {
    std::lock_guard lock(mu_);
    if (keys != allowed_) {
      spdlog::info("curve: {} client key{} allowed (from {})", keys.size(),
                   keys.size() == 1 ? "" : "s", dir_);
      if (!problems.empty()) spdlog::warn("curve: {}: skipped: {}", dir_, problems);
      for (const auto& k : allowed_)
        if (!keys.count(k)) removed = on_removed_;
      allowed_ = std::move(keys);
      logged_.clear();  // a key refused again after a change is worth a line again
    }
    count = allowed_.size();
  }
  if (removed) removed();
  return count;
}

void zap_handler::on_keys_removed(std::function<void()> f) {
  std::lock_guard lock(mu_);
  on_removed_ = std::move(f);
}

zap_handler::counts zap_handler::counters() const {
  counts c;
  c.accepted = accepted_;
  c.unknown_key = unknown_key_;
  c.no_curve = no_curve_;
  std::lock_guard lock(mu_);
  c.keys = allowed_.size();
  return c;
}

void zap_handler::secure(zmq::socket_t& sock, const std::string& what) {
  sock.set(zmq::sockopt::curve_server, true);
  sock.set(zmq::sockopt::curve_secretkey, server_.secret_key);
  sock.set(zmq::sockopt::zap_domain, "shoal");
  const std::string endpoint = "inproc://shoal-curve-monitor-" + std::to_string(++monitors_);
  if (zmq_socket_monitor(
          sock.handle(), endpoint.c_str(),
          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
    throw curve_error(what + ": cannot watch its handshakes: " + zmq_strerror(zmq_errno()));
  std::lock_guard lock(mu_);
  pending_monitors_.emplace_back(endpoint, what);
}

// RFC 27: version, request id, domain, address, routing id, mechanism, credentials; the answer:
// version, request id, status code, status text, user id, metadata.
void zap_handler::answer(zmq::socket_t& rep) {
  std::vector<zmq::message_t> req;
  while (true) {
    zmq::message_t part;
    if (!rep.recv(part, zmq::recv_flags::dontwait)) break;
    const bool more = part.more();
    req.push_back(std::move(part));
    if (!more) break;
  }
  if (req.size() < 6) {
    // Not a ZAP request; a REP socket must still answer before it can receive again.
    const std::string id = req.size() > 1 ? req[1].to_string() : "";
    const std::array<std::string, 6> reply{"1.0", id, "500", "malformed ZAP request", "", ""};
    for (std::size_t i = 0; i < reply.size(); ++i)
      rep.send(zmq::buffer(reply[i]),
               i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    return;
  }
  const std::string version = req[0].to_string(), id = req[1].to_string();
  const std::string address = req[3].to_string(), mechanism = req[5].to_string();
  std::string code = "200", text = "OK", user;
  if (mechanism == "CURVE" && req.size() >= 7 && req[6].size() == 32) {
    std::array<char, 41> key{};
    zmq_z85_encode(key.data(), static_cast<const std::uint8_t*>(req[6].data()), 32);
    user = key.data();
    bool allowed = false, first = false;
    {
      std::lock_guard lock(mu_);
      allowed = allowed_.count(user) != 0;
      if (!allowed) first = logged_.insert(user).second;
    }
    if (allowed) {
      ++accepted_;
    } else {
      ++unknown_key_;
      code = "400";
      text = "client key not allowed";
      if (first)
        spdlog::warn(
            "curve: refused a client key that is not in {}: {} (from {}; later refusals "
            "of this key are counted, not logged)",
            dir_, user, address);
    }
  } else if (mechanism == "CURVE") {
    code = "400";
    text = "malformed credentials";
    ++unknown_key_;
  }
  const std::array<std::string, 6> reply{version, id, code, text, user, ""};
  for (std::size_t i = 0; i < reply.size(); ++i)
    rep.send(zmq::buffer(reply[i]),
             i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

void zap_handler::monitor_event(zmq::socket_t& mon, const std::string& what) {
  zmq::message_t event, address;
  if (!mon.recv(event, zmq::recv_flags::dontwait)) return;
  if (event.more()) (void)mon.recv(address, zmq::recv_flags::dontwait);
  if (event.size() < 6) return;
  std::uint16_t kind = 0;
  std::memcpy(&kind, event.data(), sizeof kind);
  if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
    if (no_curve_++ == 0)
      spdlog::warn(
          "curve: {}: refused a connection that does not speak CURVE with this engine's "
          "key (on {}; later ones are counted, not logged)",
          what, address.to_string());
  }
}

}  // namespace shoal
