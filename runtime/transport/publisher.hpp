#pragma once
// publisher: the engine's one PUB socket (and, when configured, its tracked ROUTER endpoint,
// see subscriber_channel.hpp), owned by one thread (ZeroMQ sockets are not thread-safe). Node
// actors hand it ready-encoded frames through a queue; the thread sends [topic][msgpack Output]
// without ever blocking on a slow subscriber (PUB drops at its high-water mark, the tracked
// endpoint drops and counts per subscriber, and the queue itself is bounded with a counter).
//
// The fast path: a frame that need not wait (no publish_after_commit hold, nothing queued or
// being sent, no tracked endpoint) is sent by the publishing thread itself, under the queue's
// lock, instead of waking the publisher thread: waking a sleeping thread costs tens of µs on a
// small VM, a third of the engine's own share of live latency. The lock hands the socket from
// thread to thread with the full memory barrier ZeroMQ asks for, and never while the publisher
// thread is using it (in_flight_).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/metrics/stage_latency.hpp"
#include "runtime/transport/subscriber_channel.hpp"
#include "runtime/transport/zap_handler.hpp"

namespace shoal {

struct publisher_stats {
  std::uint64_t sent = 0;
  std::uint64_t queue_dropped = 0;        // frames dropped because the send queue was full
  std::uint64_t uncommitted_dropped = 0;  // held frames whose inputs were never committed
};

class publisher {
 public:
  // tracked_endpoint: the ROUTER endpoint of subscriber_channel, or empty for none.
  // latency: where the send stage of stage_latency is recorded (null: nowhere).
  // zap: CURVE on both endpoints (zap_handler.hpp), null for none.
  publisher(zmq::context_t& ctx, std::string endpoint, int hwm, std::string tracked_endpoint = {},
            std::size_t max_queue = 1 << 20, std::shared_ptr<stage_latency> latency = nullptr,
            std::shared_ptr<zap_handler> zap = nullptr);
  ~publisher();
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  // Thread-safe; never blocks on the network. after_journal > 0: hold the frame until the store
  // has committed the journal through that ingest seq (publish_after_commit), so no subscriber
  // sees an output whose inputs a crash could lose. received_ns: when the input that led to this
  // frame was received (stage_latency), 0 for none.
  void publish(std::string topic, std::string payload, std::uint64_t after_journal = 0,
               std::int64_t received_ns = 0);
  // The store committed the journal through seq (its commit listener).
  void committed(std::uint64_t seq);
  // Sends what is queued, then closes the socket.
  void stop();
  publisher_stats stats() const;
  // The tracked endpoint's subscribers (their final counts once stopped).
  std::vector<subscriber_stats> subscribers() const;
  const std::string& endpoint() const { return endpoint_; }
  // Closes every subscriber's session on the publish endpoint (unbind, bind again): the ones
  // still allowed reconnect through a new CURVE handshake, a key taken out of the allow-list is
  // refused. Outputs sent while they reconnect are not theirs (PUB never queues for the absent).
  void drop_sessions();

 private:
  void run(zmq::context_t& ctx, int hwm);
  void rebind(zmq::socket_t& sock);  // drop_sessions(), on the publishing thread

  std::string endpoint_;
  std::string tracked_endpoint_;
  std::size_t max_queue_;
  std::shared_ptr<stage_latency> latency_;
  std::shared_ptr<zap_handler> zap_;
  bool rebind_ = false;  // drop_sessions() asked; the publishing thread does it (guarded by mu_)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct frame {
    std::string topic, payload;
    std::uint64_t after = 0;
    std::int64_t received_ns = 0;
  };
  std::deque<frame> queue_;
  std::size_t in_flight_ = 0;  // frames the thread took from the queue and is sending
  // The PUB socket while the fast path may use it (under mu_): bound, no tracked endpoint, not
  // stopping.
  zmq::socket_t* fast_ = nullptr;
  std::uint64_t committed_ = 0;
  bool stopping_ = false;
  publisher_stats stats_;
  std::thread thread_;
  std::mutex bound_mu_;
  std::condition_variable bound_cv_;
  bool bound_ = false;
  std::string bind_error_;
  mutable std::mutex channel_mu_;  // guards channel_ (the thread's) and final_subscribers_
  std::unique_ptr<subscriber_channel> channel_;
  std::vector<subscriber_stats> final_subscribers_;
};

}  // namespace shoal
