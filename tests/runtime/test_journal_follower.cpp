// A standby's follow lag against a real nats-server: journal_follower reads where the engine's
// journal ends in the stream and says how many records it has not handed on yet and how long
// ago it found the oldest of them there; both are zero once it has taken everything, and stay
// zero on a stream that receives nothing.
#include "runtime/cluster/journal_follower.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "nats_server.hpp"
#include "runtime/cluster/engine_lease.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::nats_server;
using namespace std::chrono_literals;

namespace {

void publish_records(jetstream_link& link, const cluster_decl& c, std::uint64_t from,
                     std::uint64_t through) {
  std::vector<std::string> ids, bodies;
  for (std::uint64_t s = from; s <= through; ++s) {
    ids.push_back(c.engine_id + ":" + std::to_string(s));
    bodies.push_back("record " + std::to_string(s));
  }
  std::vector<outgoing_message> msgs;
  for (std::size_t i = 0; i < ids.size(); ++i) msgs.push_back({ids[i], "", bodies[i]});
  REQUIRE(link.publish(c.journal_subject(), msgs, 10'000).error.empty());
}

// Engine `id`'s journal stream on the server, made.
cluster_decl engine_stream(const nats_server& server, jetstream_link& link, const std::string& id) {
  cluster_decl c;
  c.enabled = true;
  c.servers = {server.url()};
  c.replicas = 1;
  c.engine_id = id;
  link.ensure_stream(c);
  return c;
}

// A follower's hooks that hand records to `record` and never take the lease.
journal_follower::hooks not_contending(std::function<void(std::uint64_t, std::string&&)> record) {
  journal_follower::hooks h;
  h.record = std::move(record);
  h.promoted = [](std::unique_ptr<engine_lease>) { FAIL("a follower that does not contend"); };
  h.contend = false;
  return h;
}

}  // namespace

TEST_CASE("a standby's follow lag counts what it has not taken and since when", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = engine_stream(server, *link, "f1");
  publish_records(*link, c, 1, 100);

  // A graph slower than the stream: 20 ms a record, so 100 records take two seconds; record 60
  // waits until the test read the lag in the middle.
  std::atomic<int> per_record_ms{20};
  std::atomic<std::uint64_t> handed{0};
  std::atomic<bool> hold{true};
  journal_follower f(c, 0, "", not_contending([&](std::uint64_t seq, std::string&&) {
                       std::this_thread::sleep_for(std::chrono::milliseconds(per_record_ms.load()));
                       while (seq == 60 && hold) {
                         std::this_thread::sleep_for(std::chrono::milliseconds(1));
                       }
                       handed = seq;
                     }));

  REQUIRE(shoal::test::wait_for([&] { return f.follow_lag().stream_last == 100; }, 20s));
  const auto found = std::chrono::steady_clock::now();  // the follower found them by then
  REQUIRE(shoal::test::wait_for([&] { return f.followed() >= 50; }, 20s));
  const std::uint64_t before = f.followed();
  const auto since_found = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - found);
  const journal_follower::lag mid = f.follow_lag();  // read after: at least that old
  const std::uint64_t after = f.followed();
  hold = false;
  REQUIRE(after < 100);  // held at record 60
  CHECK(mid.records <= 100 - before);
  CHECK(mid.records >= 100 - after);
  CHECK(mid.records >= 40);
  // Never younger than the time since the records were found in the stream.
  CHECK(mid.ms >= since_found.count() - 1);
  REQUIRE(shoal::test::wait_for([&] { return f.followed() == 100; }, 20s));
  auto lag = f.follow_lag();
  CHECK(lag.records == 0);
  CHECK(lag.ms == 0);

  // Caught up on a stream that receives nothing: the lag stays zero as time goes by.
  per_record_ms = 0;
  publish_records(*link, c, 101, 120);
  REQUIRE(shoal::test::wait_for([&] { return f.follow_lag().stream_last == 120; }, 20s));
  REQUIRE(shoal::test::wait_for([&] { return f.followed() == 120; }, 20s));
  const auto checks_later = std::chrono::steady_clock::now() + 3 * journal_follower::lag_check;
  REQUIRE(
      shoal::test::wait_for([&] { return std::chrono::steady_clock::now() >= checks_later; }, 5s));
  lag = f.follow_lag();
  CHECK(lag.records == 0);
  CHECK(lag.ms == 0);
  CHECK(f.error().empty());
  f.stop();
  CHECK(handed == 120);
}

TEST_CASE("a standby that stopped following is behind from then on", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = engine_stream(server, *link, "f2");
  publish_records(*link, c, 1, 10);
  // A data dir of another history: its record 10 is not the stream's, so the follower stops at
  // once, with nothing left to take (no backlog to age).
  journal_follower f(c, 10, "another record 10", not_contending([](std::uint64_t, std::string&&) {
                       FAIL("a record of another history handed on");
                     }));
  REQUIRE(shoal::test::wait_for([&] { return !f.error().empty(); }, 20s));
  CHECK(f.error().find("differs from the one in stream") != std::string::npos);
  REQUIRE(shoal::test::wait_for([&] { return f.follow_lag().stream_last == 10; }, 20s));
  CHECK(f.follow_lag().records == 0);
  // Its age grows all the same: an alert on it fires for a standby that follows nothing.
  CHECK(shoal::test::wait_for([&] { return f.follow_lag().ms >= 300; }, 5s));
}
