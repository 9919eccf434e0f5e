#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "runtime/transport/publisher.hpp"

using namespace shoal;

namespace {

// Receives [topic][payload] frames with a deadline; nullopt when none came in time.
std::optional<std::string> receive(zmq::socket_t& sub, int timeout_ms = 5000) {
  zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
  std::vector<zmq::message_t> parts;
  (void)zmq::recv_multipart(sub, std::back_inserter(parts));
  return parts.at(1).to_string();
}

// A subscriber that already receives what the publisher sends (ZeroMQ's slow joiner).
zmq::socket_t joined_subscriber(zmq::context_t& ctx, publisher& pub) {
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, 0);
  sub.set(zmq::sockopt::subscribe, "t");
  sub.connect(pub.endpoint());
  for (int i = 0; i < 1000; ++i) {
    pub.publish("t", "probe");
    if (receive(sub, 10)) break;
  }
  while (receive(sub, 50)) {
  }
  return sub;
}

}  // namespace

TEST_CASE("publisher: frames from many threads arrive, each thread's in its order", "[publisher]") {
  zmq::context_t ctx(1);
  publisher pub(ctx, "tcp://127.0.0.1:*", 0);
  auto sub = joined_subscriber(ctx, pub);
  const auto sent_before = pub.stats().sent;
  constexpr int threads = 4, per_thread = 3000;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        pub.publish("t", std::to_string(t) + ":" + std::to_string(i));
      }
    });
  }
  std::map<int, int> next;  // per thread, the index expected next
  int got = 0;
  while (got < threads * per_thread) {
    auto f = receive(sub);
    REQUIRE(f);
    const auto colon = f->find(':');
    const int t = std::stoi(f->substr(0, colon)), i = std::stoi(f->substr(colon + 1));
    REQUIRE(i == next[t]);
    ++next[t];
    ++got;
  }
  for (auto& th : ts) th.join();
  CHECK(pub.stats().sent - sent_before == threads * per_thread);
  CHECK(pub.stats().queue_dropped == 0);
}

TEST_CASE("publisher: a frame held for a commit holds the frames behind it", "[publisher]") {
  zmq::context_t ctx(1);
  publisher pub(ctx, "tcp://127.0.0.1:*", 0);
  auto sub = joined_subscriber(ctx, pub);
  pub.publish("t", "held", 5);  // waits until the journal is committed through seq 5
  pub.publish("t", "behind");   // nothing to wait for, but must not overtake
  CHECK_FALSE(receive(sub, 200));
  pub.committed(4);
  CHECK_FALSE(receive(sub, 200));
  pub.committed(5);
  CHECK(receive(sub) == "held");
  CHECK(receive(sub) == "behind");
  pub.publish("t", "after");  // the queue is empty again: straight through
  CHECK(receive(sub) == "after");
}
