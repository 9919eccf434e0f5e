#pragma once
// subscriber_channel: the tracked publish endpoint ([engine] publish_tracked, a ROUTER).
//
// A PUB socket drops silently when a subscriber falls behind and cannot say for whom. Here
// each subscriber connects a DEALER (its ZeroMQ routing id names it) and sends
// ["subscribe", prefix]; it then receives the same two frames a SUB gets from the publish
// endpoint, [topic][msgpack Output]. The engine sees each subscriber's queue: when one is full
// (that client reads too slowly) the output is dropped for that client alone, never waited
// for, and counted under its name. Requests are answered with a control frame pair
// ["" (empty topic)][msgpack map], which no node output can look like (node names are never
// empty).
//
// Owned by the publisher thread (ZeroMQ sockets are not thread-safe); stats() may be called
// from any thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "runtime/transport/zap_handler.hpp"

namespace shoal {

struct subscriber_stats {
  std::string name;                 // routing id: as sent when printable, else 0x + hex
  std::vector<std::string> topics;  // subscribed topic prefixes ("" = every topic)
  std::uint64_t sent = 0;           // outputs handed to its queue
  std::uint64_t dropped = 0;        // outputs dropped because its queue was full
  bool connected = true;            // false once it said bye or its connection went away
};

struct subscriber_channel_limits {
  std::size_t max_subscribers = 1024;  // connected at once; more are refused with an error
  std::size_t max_topics = 256;        // prefixes per subscriber
  std::size_t max_topic_bytes = 256;
  std::size_t max_departed = 256;  // departed subscribers kept for the counters, oldest evicted
  // A subscriber sent nothing for this long gets a ping ([""][{"ping": ""}]), which finds out
  // whether it is still there (and tells it the engine is).
  std::chrono::steady_clock::duration ping_after = std::chrono::seconds(5);
};

class subscriber_channel {
 public:
  // Binds a ROUTER at endpoint; throws zmq::error_t when it cannot. hwm is the per-subscriber
  // send high-water mark in messages.
  // zap: CURVE (zap_handler.hpp), null for none.
  subscriber_channel(zmq::context_t& ctx, const std::string& endpoint, int hwm,
                     subscriber_channel_limits limits = {}, zap_handler* zap = nullptr);

  // Answers every request waiting on the socket; never blocks.
  void serve_requests();
  // Sends [topic][payload] to every subscriber whose prefix matches; never blocks.
  void deliver(const std::string& topic, const std::string& payload);
  // At most once a second: pings subscribers that were sent nothing for `ping_after` and marks
  // departed those that are gone or subscribed to nothing any more.
  void keep_alive(std::chrono::steady_clock::time_point now);
  std::vector<subscriber_stats> stats() const;
  std::uint64_t requests_rejected() const;

 private:
  struct subscriber {
    std::set<std::string> prefixes;
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;
    bool connected = true;
    std::chrono::steady_clock::time_point last_contact = std::chrono::steady_clock::now();
  };
  enum class outcome { sent, full, gone };
  outcome send_message(const std::string& id, std::string_view topic, std::string_view body);
  void handle(const std::string& id, const std::vector<zmq::message_t>& frames);
  void reply(const std::string& id, const std::string& key, const std::string& text);
  void depart(const std::string& id, subscriber& s);
  std::size_t connected_count() const;

  zmq::socket_t sock_;
  subscriber_channel_limits limits_;
  mutable std::mutex mu_;  // guards subs_, departed_ and rejected_ (stats() reads them)
  std::map<std::string, subscriber> subs_;  // by routing id (ordered: stable listings)
  std::deque<std::string> departed_;        // eviction order of departed subscribers
  std::uint64_t rejected_ = 0;
  std::chrono::steady_clock::time_point last_sweep_{};
};

// A routing id for people: as is when it is printable ASCII, else "0x" + hex (ZeroMQ's
// generated ids start with a zero byte).
std::string printable_routing_id(const std::string& id);

// {name, topics, sent, dropped, connected}: the admin `subscribers` answer and `run --report`.
nlohmann::json subscriber_json(const subscriber_stats& s);

}  // namespace shoal
