#include "runtime/engine/subscriber_channel.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "messages/msgpack_codec.hpp"

namespace shoal {

std::string printable_routing_id(const std::string& id) {
  const bool printable =
      !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (printable) return id;
  static constexpr char hex[] = "0123456789abcdef";
  std::string s = "0x";
  for (unsigned char c : id) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

nlohmann::json subscriber_json(const subscriber_stats& s) {
  return {{"name", s.name},
          {"topics", s.topics},
          {"sent", s.sent},
          {"dropped", s.dropped},
          {"connected", s.connected}};
}

subscriber_channel::subscriber_channel(zmq::context_t& ctx, const std::string& endpoint, int hwm,
                                       subscriber_channel_limits limits)
    : sock_(ctx, zmq::socket_type::router), limits_(limits) {
  sock_.set(zmq::sockopt::sndhwm, hwm);
  sock_.set(zmq::sockopt::linger, 500);
  // Mandatory routing turns "queue full" into EAGAIN and "peer gone" into EHOSTUNREACH
  // instead of a silent drop: that is what lets us count per subscriber.
  sock_.set(zmq::sockopt::router_mandatory, 1);
  // A client reconnecting under the same name takes its entry (and counters) over.
  sock_.set(zmq::sockopt::router_handover, 1);
  sock_.bind(endpoint);
}

void subscriber_channel::serve_requests() {
  for (;;) {
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
  const std::string body = to_msgpack(Value(value_map{{key, Value(text)}}));
  try {
    if (!sock_.send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return;
    sock_.send(zmq::str_buffer(""), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    sock_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // The client is gone already; the next delivery notices and marks it departed.
  }
}

void subscriber_channel::deliver(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  for (auto& [id, s] : subs_) {
    if (!s.connected) continue;
    const bool wanted = std::any_of(s.prefixes.begin(), s.prefixes.end(), [&](const auto& p) {
      return topic.compare(0, p.size(), p) == 0;
    });
    if (!wanted) continue;
    try {
      if (!send_routing_frame(id)) {
        ++s.dropped;  // its queue is full: this output is lost for this client only
        continue;
      }
      // Once the routing frame is accepted the rest of the message is too (ZeroMQ checks the
      // high-water mark per message).
      sock_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      sock_.send(zmq::buffer(payload), zmq::send_flags::dontwait);
      ++s.sent;
    } catch (const zmq::error_t&) {
      depart(id, s);  // EHOSTUNREACH: the connection went away without a bye
    }
  }
}

bool subscriber_channel::send_routing_frame(const std::string& id) {
  if (sock_.send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
    return true;
  // A queue looks full until the socket has processed the reader's "I have read up to here"
  // notes, which a busy socket does at most every few milliseconds. Asking for ZMQ_EVENTS
  // processes them at once: only a queue that is still full counts as a drop.
  (void)sock_.get(zmq::sockopt::events);
  return sock_.send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)
      .has_value();
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
