#pragma once
// publisher: the engine's one PUB socket, owned by one thread (ZeroMQ sockets are not
// thread-safe). Node actors hand it ready-encoded frames through a queue; the thread sends
// [topic][msgpack Output] without ever blocking on a slow subscriber (PUB drops at its
// high-water mark, and the queue itself is bounded with a drop counter).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace zmq {
class context_t;
}

namespace shoal {

struct publisher_stats {
  std::uint64_t sent = 0;
  std::uint64_t queue_dropped = 0;  // frames dropped because the send queue was full
};

class publisher {
 public:
  publisher(zmq::context_t& ctx, std::string endpoint, int hwm, std::size_t max_queue = 1 << 20);
  ~publisher();
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  // Thread-safe; never blocks on the network.
  void publish(std::string topic, std::string payload);
  // Sends what is queued, then closes the socket.
  void stop();
  publisher_stats stats() const;
  const std::string& endpoint() const { return endpoint_; }

 private:
  void run(zmq::context_t& ctx, int hwm);

  std::string endpoint_;
  std::size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool stopping_ = false;
  publisher_stats stats_;
  std::thread thread_;
  std::mutex bound_mu_;
  std::condition_variable bound_cv_;
  bool bound_ = false;
  std::string bind_error_;
};

}  // namespace shoal
