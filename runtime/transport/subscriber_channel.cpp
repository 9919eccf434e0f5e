#include "runtime/transport/subscriber_channel.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "messages/hex.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

std::string printable_routing_id(const std::string& id) {
  const bool printable =
      !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (printable) return id;
  return "0x" + to_hex(id);
}

nlohmann::json subscriber_json(const subscriber_stats& s) {
  return {{"name", s.name},
          {"topics", s.topics},
          {"sent", s.sent},
          {"dropped", s.dropped},
          {"connected", s.connected}};
}

subscriber_channel::subscriber_channel(zmq::context_t& ctx, const std::string& endpoint, int hwm,
                                       subscriber_channel_limits limits, zap_handler* zap)
    : sock_(ctx, zmq::socket_type::router), limits_(limits) {
  sock_.set(zmq::sockopt::sndhwm, hwm);
  sock_.set(zmq::sockopt::linger, 500);
  // Mandatory routing turns "queue full" into EAGAIN and "peer gone" into EHOSTUNREACH
  // instead of a silent drop: that is what lets us count per subscriber.
  sock_.set(zmq::sockopt::router_mandatory, 1);
  // No router_handover: with it, libzmq 4.3.4 aborts the process (!_io_error in
  // stream_engine_base.cpp) when a second connection takes a name over from one that stalled,
  // so any client could knock the engine over. A second connection under a connected name is
  // refused by libzmq instead; once the first is gone the name (and its counters) is free again.
  // ZMTP heartbeats close connections whose peer vanished without closing TCP (a pulled cable,
  // a frozen host), so the next send to it reports it gone instead of counting drops forever.
  sock_.set(zmq::sockopt::heartbeat_ivl, 2000);
  sock_.set(zmq::sockopt::heartbeat_timeout, 6000);
  if (zap) zap->secure(sock_, "publish_tracked");
  sock_.bind(endpoint);
}

void subscriber_channel::serve_requests() {
  // Bounded: a client flooding requests must not keep the publisher thread from publishing.
  for (int served = 0; served < 256; ++served) {
    std::vector<zmq::message_t> frames;
    for (;;) {
      zmq::message_t m;
      if (!sock_.recv(m, zmq::recv_flags::dontwait)) break;
      const bool more = m.more();
      if (frames.size() < 4) frames.push_back(std::move(m));  // longer requests are bad anyway
      if (!more) break;
    }
    if (frames.empty()) return;
    const std::string id = frames.front().to_string();
    frames.erase(frames.begin());
    handle(id, frames);
  }
}

void subscriber_channel::handle(const std::string& id, const std::vector<zmq::message_t>& frames) {
  const std::string verb = frames.empty() ? std::string() : frames[0].to_string();
  const std::string topic = frames.size() > 1 ? frames[1].to_string() : std::string();
  std::unique_lock lock(mu_);
  auto refuse = [&](const std::string& why) {
    ++rejected_;
    lock.unlock();
    reply(id, "error", why);
  };
  if (verb == "bye") {
    if (auto it = subs_.find(id); it != subs_.end() && it->second.connected) depart(id, it->second);
    return;
  }
  if (verb != "subscribe" && verb != "unsubscribe")
    return refuse("unknown request \"" + verb.substr(0, 64) +
                  "\": send [\"subscribe\", topic prefix], [\"unsubscribe\", topic prefix] or "
                  "[\"bye\"]");
  if (frames.size() != 2)
    return refuse("\"" + verb + "\" takes exactly one frame after it: the topic prefix");
  if (topic.size() > limits_.max_topic_bytes)
    return refuse("topic prefix longer than " + std::to_string(limits_.max_topic_bytes) + " bytes");
  auto it = subs_.find(id);
  if (verb == "subscribe") {
    if ((it == subs_.end() || !it->second.connected) &&
        connected_count() >= limits_.max_subscribers)
      return refuse("too many subscribers (" + std::to_string(limits_.max_subscribers) + ")");
    if (it == subs_.end()) it = subs_.emplace(id, subscriber{}).first;
    subscriber& s = it->second;
    s.last_contact = std::chrono::steady_clock::now();
    if (!s.connected) {  // back under the same name: counters continue
      s.connected = true;
      if (auto d = std::find(departed_.begin(), departed_.end(), id); d != departed_.end())
        departed_.erase(d);
    }
    if (!s.prefixes.count(topic) && s.prefixes.size() >= limits_.max_topics)
      return refuse("too many subscriptions (" + std::to_string(limits_.max_topics) + ")");
    s.prefixes.insert(topic);
    lock.unlock();
    return reply(id, "subscribed", topic);
  }
  if (it != subs_.end()) it->second.prefixes.erase(topic);
  lock.unlock();
  reply(id, "unsubscribed", topic);
}

void subscriber_channel::reply(const std::string& id, const std::string& key,
                               const std::string& text) {
  // A lost answer (its queue full, or it is gone) is not retried: the next delivery or ping
  // settles what became of the client.
  (void)send_message(id, "", to_msgpack(Value(value_map{{key, Value(text)}})));
}

void subscriber_channel::deliver(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, s] : subs_) {
    if (!s.connected) continue;
    const bool wanted = std::any_of(s.prefixes.begin(), s.prefixes.end(), [&](const auto& p) {
      return topic.compare(0, p.size(), p) == 0;
    });
    if (!wanted) continue;
    switch (send_message(id, topic, payload)) {
      case outcome::sent:
        ++s.sent;
        s.last_contact = now;
        break;
      case outcome::full:
        ++s.dropped;  // its queue is full: this output is lost for this client only
        break;
      case outcome::gone:
        depart(id, s);  // the connection went away without a bye
        break;
    }
  }
}

void subscriber_channel::keep_alive(std::chrono::steady_clock::time_point now) {
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  static const std::string ping = to_msgpack(Value(value_map{{"ping", Value("")}}));
  std::lock_guard lock(mu_);
  for (auto& [id, s] : subs_) {
    if (!s.connected) continue;
    if (s.prefixes.empty()) {  // unsubscribed from everything: nothing would ever notice it go
      depart(id, s);
      continue;
    }
    if (now - s.last_contact < limits_.ping_after) continue;
    // Nothing sent for a while (its topics are quiet): a ping tells a live client the engine is
    // there and tells us whether the client still is.
    if (send_message(id, "", ping) == outcome::gone)
      depart(id, s);
    else
      s.last_contact = now;
  }
}

namespace {

// One frame, never blocking; retried when a signal interrupted it. False: EAGAIN.
bool send_frame(zmq::socket_t& sock, std::string_view frame, bool more) {
  const auto flags =
      more ? zmq::send_flags::sndmore | zmq::send_flags::dontwait : zmq::send_flags::dontwait;
  for (;;) {
    try {
      return sock.send(zmq::buffer(frame), flags).has_value();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

}  // namespace

subscriber_channel::outcome subscriber_channel::send_message(const std::string& id,
                                                             std::string_view topic,
                                                             std::string_view body) {
  try {
    if (!send_frame(sock_, id, true)) {
      // A queue looks full until the socket has processed the reader's "I have read up to
      // here" notes, which a busy socket does at most every few milliseconds. Asking for
      // ZMQ_EVENTS processes them at once: only a queue that is still full counts as a drop.
      (void)sock_.get(zmq::sockopt::events);
      if (!send_frame(sock_, id, true)) return outcome::full;
    }
  } catch (const zmq::error_t&) {
    return outcome::gone;  // EHOSTUNREACH (mandatory routing): no such peer any more
  }
  // Once the routing frame is accepted the rest of the message is too (ZeroMQ checks the
  // high-water mark per message, and the peer's pipe stays until the message is complete).
  send_frame(sock_, topic, true);
  send_frame(sock_, body, false);
  return outcome::sent;
}

void subscriber_channel::depart(const std::string& id, subscriber& s) {
  s.connected = false;
  s.prefixes.clear();
  departed_.push_back(id);
  if (departed_.size() > limits_.max_departed && departed_.front() != id) {
    subs_.erase(departed_.front());
    departed_.pop_front();
  }
}

std::size_t subscriber_channel::connected_count() const {
  return static_cast<std::size_t>(std::count_if(
      subs_.begin(), subs_.end(), [](const auto& kv) { return kv.second.connected; }));
}

std::vector<subscriber_stats> subscriber_channel::stats() const {
  std::lock_guard lock(mu_);
  std::vector<subscriber_stats> out;
  for (const auto& [id, s] : subs_)
    out.push_back({printable_routing_id(id),
                   {s.prefixes.begin(), s.prefixes.end()},
                   s.sent,
                   s.dropped,
                   s.connected});
  return out;
}

std::uint64_t subscriber_channel::requests_rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

}  // namespace shoal
