#include "runtime/engine/publisher.hpp"

#include <stdexcept>
#include <zmq.hpp>

namespace shoal {

publisher::publisher(zmq::context_t& ctx, std::string endpoint, int hwm, std::size_t max_queue)
    : endpoint_(std::move(endpoint)), max_queue_(max_queue) {
  thread_ = std::thread([this, &ctx, hwm] { run(ctx, hwm); });
  // Bind before returning, so a bad endpoint is reported to the caller and not lost in a thread.
  std::unique_lock lock(bound_mu_);
  bound_cv_.wait(lock, [&] { return bound_; });
  if (!bind_error_.empty()) {
    lock.unlock();
    thread_.join();
    throw std::runtime_error("cannot bind publish endpoint " + endpoint_ + ": " + bind_error_);
  }
}

publisher::~publisher() { stop(); }

void publisher::publish(std::string topic, std::string payload) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= max_queue_) {
      ++stats_.queue_dropped;
      return;
    }
    queue_.emplace_back(std::move(topic), std::move(payload));
  }
  cv_.notify_one();
}

void publisher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

publisher_stats publisher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void publisher::run(zmq::context_t& ctx, int hwm) {
  zmq::socket_t sock(ctx, zmq::socket_type::pub);
  try {
    sock.set(zmq::sockopt::sndhwm, hwm);
    sock.set(zmq::sockopt::linger, 500);
    sock.bind(endpoint_);
  } catch (const zmq::error_t& e) {
    std::lock_guard lock(bound_mu_);
    bind_error_ = e.what();
    bound_ = true;
    bound_cv_.notify_one();
    return;
  }
  {
    std::lock_guard lock(bound_mu_);
    bound_ = true;
  }
  bound_cv_.notify_one();

  std::deque<std::pair<std::string, std::string>> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    std::uint64_t sent = 0;
    for (auto& [topic, payload] : batch) {
      sock.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      sock.send(zmq::buffer(payload), zmq::send_flags::dontwait);
      ++sent;
    }
    batch.clear();
    std::lock_guard lock(mu_);
    stats_.sent += sent;
  }
}

}  // namespace shoal
