// The tracked publish endpoint with real ZeroMQ sockets (inproc): per-subscriber queues, exact
// drop counts, the request protocol and its refusals.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <thread>
#include <zmq.hpp>

#include "messages/msgpack_codec.hpp"
#include "runtime/transport/subscriber_channel.hpp"

using namespace shoal;

namespace {

std::string endpoint() {
  static int n = 0;
  return "inproc://tracked-" + std::to_string(++n);
}

zmq::socket_t dealer(zmq::context_t& ctx, const std::string& ep, const std::string& name,
                     int rcvhwm = 1000) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::routing_id, name);
  s.set(zmq::sockopt::rcvhwm, rcvhwm);
  s.set(zmq::sockopt::linger, 0);
  s.connect(ep);
  return s;
}

void request(zmq::socket_t& s, std::vector<std::string> frames) {
  for (std::size_t i = 0; i < frames.size(); ++i)
    s.send(zmq::buffer(frames[i]),
           i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

// One [topic][body] message, waiting up to a second for it.
std::optional<std::pair<std::string, std::string>> receive(zmq::socket_t& s,
                                                           int timeout_ms = 1000) {
  zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
  if (!(items[0].revents & ZMQ_POLLIN)) return std::nullopt;
  zmq::message_t topic, body;
  REQUIRE(s.recv(topic));
  REQUIRE(topic.more());
  REQUIRE(s.recv(body));
  return std::make_pair(topic.to_string(), body.to_string());
}

// The engine's control answer to a request: {key: text}.
std::pair<std::string, std::string> answer(zmq::socket_t& s) {
  auto m = receive(s);
  REQUIRE(m);
  REQUIRE(m->first.empty());
  const Value v = from_msgpack(m->second);
  REQUIRE(v.as_map().size() == 1);
  return {v.as_map().begin()->first, v.as_map().begin()->second.as_string()};
}

// Serves requests until `done` holds (requests cross threads: give them a moment).
void serve_until(subscriber_channel& ch, const std::function<bool()>& done) {
  for (int i = 0; i < 200 && !done(); ++i) {
    ch.serve_requests();
    if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(done());
}

subscriber_stats find(const std::vector<subscriber_stats>& all, const std::string& name) {
  for (const auto& s : all)
    if (s.name == name) return s;
  FAIL("no subscriber " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("tracked endpoint: a full queue drops for that subscriber alone, counted exactly",
          "[subscriber_channel]") {
  zmq::context_t ctx;
  const auto ep = endpoint();
  subscriber_channel ch(ctx, ep, 10);
  auto fast = dealer(ctx, ep, "fast", 10);
  auto slow = dealer(ctx, ep, "slow", 10);
  request(fast, {"subscribe", ""});
  request(slow, {"subscribe", ""});
  serve_until(ch, [&] { return ch.stats().size() == 2; });
  CHECK(answer(fast) == std::make_pair(std::string("subscribed"), std::string()));
  CHECK(answer(slow) == std::make_pair(std::string("subscribed"), std::string()));

  const int total = 500;
  std::vector<int> fast_got;
  for (int i = 1; i <= total; ++i) {
    ch.deliver("t", std::to_string(i));
    // The fast client keeps up (reads each one as it comes); the slow one reads nothing yet.
    auto m = receive(fast);
    REQUIRE(m);
    fast_got.push_back(std::stoi(m->second));
  }
  std::vector<int> slow_got;
  while (auto m = receive(slow, 200)) slow_got.push_back(std::stoi(m->second));

  REQUIRE(fast_got.size() == static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) CHECK(fast_got[i] == i + 1);
  const auto stats = ch.stats();
  const auto f = find(stats, "fast");
  const auto s = find(stats, "slow");
  CHECK(f.sent == static_cast<std::uint64_t>(total));
  CHECK(f.dropped == 0);
  // The slow one got its queue's worth, in order, and the rest was counted as dropped.
  CHECK(s.sent == slow_got.size());
  CHECK(s.dropped > 0);
  CHECK(s.sent + s.dropped == static_cast<std::uint64_t>(total));
  for (std::size_t i = 0; i < slow_got.size(); ++i) CHECK(slow_got[i] == static_cast<int>(i) + 1);

  // Once drained, it receives again (and is not counted as dropped).
  ch.deliver("t", "next");
  auto m = receive(slow);
  REQUIRE(m);
  CHECK(m->second == "next");
  CHECK(find(ch.stats(), "slow").dropped == s.dropped);
}

TEST_CASE("tracked endpoint: prefix subscriptions, unsubscribe and bye", "[subscriber_channel]") {
  zmq::context_t ctx;
  const auto ep = endpoint();
  subscriber_channel ch(ctx, ep, 100);
  auto c = dealer(ctx, ep, "c");
  request(c, {"subscribe", "market."});
  serve_until(ch, [&] { return ch.stats().size() == 1; });
  CHECK(answer(c).first == "subscribed");
  ch.deliver("market.scan", "a");
  ch.deliver("z", "b");
  ch.deliver("market.ob", "c");
  auto m1 = receive(c), m2 = receive(c);
  REQUIRE(m1);
  REQUIRE(m2);
  CHECK(m1->first == "market.scan");
  CHECK(m2->first == "market.ob");
  CHECK(find(ch.stats(), "c").sent == 2);
  CHECK(find(ch.stats(), "c").topics == std::vector<std::string>{"market."});

  request(c, {"unsubscribe", "market."});
  serve_until(ch, [&] { return find(ch.stats(), "c").topics.empty(); });
  CHECK(answer(c) == std::make_pair(std::string("unsubscribed"), std::string("market.")));
  ch.deliver("market.scan", "d");
  CHECK_FALSE(receive(c, 100));

  request(c, {"bye"});
  serve_until(ch, [&] { return !find(ch.stats(), "c").connected; });
  // Back under the same name: its counters continue.
  request(c, {"subscribe", ""});
  serve_until(ch, [&] { return find(ch.stats(), "c").connected; });
  CHECK(answer(c).first == "subscribed");
  ch.deliver("z", "e");
  CHECK(receive(c));
  CHECK(find(ch.stats(), "c").sent == 3);
}

TEST_CASE("tracked endpoint: bad requests are refused with a reason and counted",
          "[subscriber_channel]") {
  zmq::context_t ctx;
  const auto ep = endpoint();
  subscriber_channel_limits limits;
  limits.max_subscribers = 1;
  limits.max_topics = 2;
  subscriber_channel ch(ctx, ep, 100, limits);
  auto c = dealer(ctx, ep, "c");
  auto refused = [&](std::vector<std::string> frames, const std::string& why) {
    const auto before = ch.requests_rejected();
    request(c, frames);
    serve_until(ch, [&] { return ch.requests_rejected() == before + 1; });
    const auto [key, text] = answer(c);
    CHECK(key == "error");
    CHECK_THAT(text, Catch::Contains(why));
  };
  refused({"hello"}, "unknown request \"hello\"");
  refused({"subscribe"}, "exactly one frame after it");
  refused({"subscribe", "a", "b"}, "exactly one frame after it");
  refused({"subscribe", std::string(300, 'x')}, "longer than 256 bytes");
  request(c, {"subscribe", "a"});
  request(c, {"subscribe", "b"});
  serve_until(ch, [&] { return !ch.stats().empty() && ch.stats()[0].topics.size() == 2; });
  CHECK(answer(c).first == "subscribed");
  CHECK(answer(c).first == "subscribed");
  refused({"subscribe", "c"}, "too many subscriptions (2)");
  auto other = dealer(ctx, ep, "other");
  const auto before = ch.requests_rejected();
  request(other, {"subscribe", ""});
  serve_until(ch, [&] { return ch.requests_rejected() == before + 1; });
  CHECK_THAT(answer(other).second, Catch::Contains("too many subscribers (1)"));
  CHECK(ch.stats().size() == 1);
}

TEST_CASE("tracked endpoint: a subscriber whose connection closed is marked departed",
          "[subscriber_channel]") {
  zmq::context_t ctx;
  const auto ep = endpoint();
  subscriber_channel ch(ctx, ep, 100);
  {
    auto c = dealer(ctx, ep, "gone");
    request(c, {"subscribe", ""});
    serve_until(ch, [&] { return ch.stats().size() == 1; });
  }  // closed without a bye
  // ZeroMQ tears the pipe down asynchronously; the next delivery after that notices.
  for (int i = 0; i < 200 && find(ch.stats(), "gone").connected; ++i) {
    ch.deliver("t", "x");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto s = find(ch.stats(), "gone");
  CHECK_FALSE(s.connected);
  CHECK(s.topics.empty());
}

TEST_CASE("routing ids are shown as text when printable, else as hex", "[subscriber_channel]") {
  CHECK(printable_routing_id("slow-client") == "slow-client");
  CHECK(printable_routing_id(std::string("\0\x01\xff", 3)) == "0x0001ff");
  CHECK(printable_routing_id("a b") == "0x612062");
}

TEST_CASE("tracked endpoint: quiet subscribers are pinged, vanished ones marked departed",
          "[subscriber_channel]") {
  zmq::context_t ctx;
  const auto ep = endpoint();
  subscriber_channel_limits limits;
  limits.ping_after = std::chrono::milliseconds(0);
  subscriber_channel ch(ctx, ep, 100, limits);
  auto now = std::chrono::steady_clock::now();
  auto quiet = dealer(ctx, ep, "quiet");
  auto none = dealer(ctx, ep, "none");
  request(quiet, {"subscribe", "no-such-topic"});
  request(none, {"subscribe", "x"});
  serve_until(ch, [&] { return ch.stats().size() == 2; });
  CHECK(answer(quiet).first == "subscribed");
  CHECK(answer(none).first == "subscribed");
  request(none, {"unsubscribe", "x"});
  serve_until(ch, [&] { return find(ch.stats(), "none").topics.empty(); });

  ch.keep_alive(now += std::chrono::seconds(2));
  // Its topic never publishes, yet it hears from the engine.
  CHECK(answer(quiet) == std::make_pair(std::string("ping"), std::string()));
  CHECK(find(ch.stats(), "quiet").connected);
  // Subscribed to nothing: nothing would ever notice it leave, so it is listed as departed.
  CHECK_FALSE(find(ch.stats(), "none").connected);

  quiet.close();  // gone without a bye, and nothing to deliver to it: the pings find out
  for (int i = 0; i < 200 && find(ch.stats(), "quiet").connected; ++i) {
    ch.keep_alive(now += std::chrono::seconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK_FALSE(find(ch.stats(), "quiet").connected);
}
