#include "runtime/transport/publisher.hpp"

#include <spdlog/spdlog.h>
#include <chrono>

#include <stdexcept>
#include <zmq.hpp>

namespace shoal {

publisher::publisher(zmq::context_t& ctx, std::string endpoint, int hwm,
                     std::string tracked_endpoint, std::size_t max_queue,
                     std::shared_ptr<stage_latency> latency, std::shared_ptr<zap_handler> zap)
    : endpoint_(std::move(endpoint)),
      tracked_endpoint_(std::move(tracked_endpoint)),
      max_queue_(max_queue),
      latency_(std::move(latency)),
      zap_(std::move(zap)) {
  thread_ = std::thread([this, &ctx, hwm] { run(ctx, hwm); });
  // Bind before returning, so a bad endpoint is reported to the caller and not lost in a thread.
  std::unique_lock lock(bound_mu_);
  bound_cv_.wait(lock, [&] { return bound_; });
  if (!bind_error_.empty()) {
    lock.unlock();
    thread_.join();
    throw std::runtime_error(bind_error_);
  }
}

publisher::~publisher() { stop(); }

void publisher::publish(std::string topic, std::string payload, std::uint64_t after_journal,
                        std::int64_t received_ns) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= max_queue_) {
      ++stats_.queue_dropped;
      return;
    }
    if (fast_ && after_journal == 0 && queue_.empty() && in_flight_ == 0) {
      try {
        fast_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        fast_->send(zmq::buffer(payload), zmq::send_flags::dontwait);
        ++stats_.sent;
      } catch (const zmq::error_t&) {  // the context is going away: count it, never throw
        ++stats_.queue_dropped;
      }
      if (latency_) latency_->record(latency_stage::send, received_ns);
      return;
    }
    queue_.push_back({std::move(topic), std::move(payload), after_journal, received_ns});
  }
  cv_.notify_one();
}

void publisher::committed(std::uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    if (seq <= committed_) return;
    committed_ = seq;
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

void publisher::drop_sessions() {
  {
    std::lock_guard lock(mu_);
    rebind_ = true;
  }
  cv_.notify_one();
}

publisher_stats publisher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<subscriber_stats> publisher::subscribers() const {
  std::lock_guard lock(channel_mu_);
  return channel_ ? channel_->stats() : final_subscribers_;
}

void publisher::rebind(zmq::socket_t& sock) {
  try {
    sock.unbind(endpoint_);
  } catch (const zmq::error_t& e) {
    spdlog::error("publish {}: cannot close its sessions: {}", endpoint_, e.what());
    return;
  }
  for (int attempt = 0;; ++attempt) {
    try {
      sock.bind(endpoint_);
      spdlog::info("publish {}: every session closed; allowed subscribers reconnect", endpoint_);
      return;
    } catch (const zmq::error_t& e) {
      if (attempt == 250) {  // 5 s
        spdlog::error("publish {}: cannot bind again after closing its sessions: {}", endpoint_,
                      e.what());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void publisher::run(zmq::context_t& ctx, int hwm) {
  zmq::socket_t sock(ctx, zmq::socket_type::pub);
  std::string error;
  try {
    sock.set(zmq::sockopt::sndhwm, hwm);
    sock.set(zmq::sockopt::linger, 500);
    if (zap_) zap_->secure(sock, "publish");
    sock.bind(endpoint_);
    // As bound: "tcp://127.0.0.1:*" becomes the port the system chose (read once bound_ is set).
    endpoint_ = sock.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    error = "cannot bind publish endpoint " + endpoint_ + ": " + e.what();
  } catch (const std::exception& e) {  // CURVE could not be set up on it
    error = "publish endpoint " + endpoint_ + ": " + e.what();
  }
  if (error.empty() && !tracked_endpoint_.empty()) {
    try {
      std::lock_guard lock(channel_mu_);
      channel_ = std::make_unique<subscriber_channel>(ctx, tracked_endpoint_, hwm,
                                                      subscriber_channel_limits{}, zap_.get());
    } catch (const zmq::error_t& e) {
      error = "cannot bind publish_tracked endpoint " + tracked_endpoint_ + ": " + e.what();
    }
  }
  {
    std::lock_guard lock(bound_mu_);
    bind_error_ = error;
    bound_ = true;
  }
  bound_cv_.notify_one();
  if (!error.empty()) return;

  // The tracked endpoint's requests arrive on its socket, not through the queue: with one,
  // wake up every few milliseconds to answer them.
  subscriber_channel* const channel = channel_.get();
  if (!channel) {
    std::lock_guard lock(mu_);
    fast_ = &sock;
  }
  std::deque<frame> batch;
  // A ZeroMQ error on the tracked endpoint must not end publishing for everyone: the first is
  // logged, and the PUB socket carries on.
  std::uint64_t channel_errors = 0;
  auto guarded = [&](auto&& f) {
    try {
      f();
    } catch (const zmq::error_t& e) {
      if (channel_errors++ == 0)
        spdlog::error("publish_tracked {}: {} (further errors not logged)", tracked_endpoint_,
                      e.what());
    }
  };
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Frames go in order; one held for a commit holds the ones behind it.
      const auto sendable = [&] { return !queue_.empty() && queue_.front().after <= committed_; };
      const auto ready = [&] { return stopping_ || rebind_ || sendable(); };
      if (channel)
        cv_.wait_for(lock, std::chrono::milliseconds(10), ready);
      else
        cv_.wait(lock, ready);
      if (rebind_) {
        // Every session closes; peers reconnect. libzmq closes the listener in its I/O thread,
        // so binding again may take a few tries. Meanwhile publish() queues (no fast path).
        rebind_ = false;
        fast_ = nullptr;
        lock.unlock();
        rebind(sock);
        lock.lock();
        if (!channel) fast_ = &sock;
      }
      if (stopping_ && !sendable()) {
        // The store stopped first and committed what it could: the rest was never durable.
        stats_.uncommitted_dropped += queue_.size();
        fast_ = nullptr;
        break;
      }
      while (sendable()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = batch.size();
    }
    if (channel)
      guarded([&] {
        channel->serve_requests();
        channel->keep_alive(std::chrono::steady_clock::now());
      });
    std::uint64_t sent = 0;
    for (auto& [topic, payload, after, received_ns] : batch) {
      sock.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      sock.send(zmq::buffer(payload), zmq::send_flags::dontwait);
      if (latency_) latency_->record(latency_stage::send, received_ns);
      if (channel) guarded([&] { channel->deliver(topic, payload); });
      ++sent;
    }
    batch.clear();
    std::lock_guard lock(mu_);
    stats_.sent += sent;
    in_flight_ = 0;
  }
  // Close the ROUTER here (the context cannot terminate while it is open); keep its counts.
  std::lock_guard lock(channel_mu_);
  if (channel_) final_subscribers_ = channel_->stats();
  channel_.reset();
}

}  // namespace shoal
