// A standby's follow lag against a real nats-server: journal_follower reads where the engine's
// journal ends in the stream and says how many records it has not handed on yet and how long
// ago it found the oldest of them there; both are zero once it has taken everything, and stay
// zero on a stream that receives nothing. A takeover that finds records missing below ones the
// stream holds (the process before lost with a batch stored in part) puts them in the stream as
// lost and goes on.
#include "runtime/cluster/journal_follower.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "messages/journal_record.hpp"
#include "nats_server.hpp"
#include "runtime/cluster/engine_lease.hpp"
#include "runtime/cluster/journal_pull.hpp"
#include "runtime/cluster/journal_replicator.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

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

// A batch the cluster stored in part (a leader change lost records 3, 5 and 6 of it), and the
// process that journaled it gone before it sent it again: the standby that takes the lease
// writes each missing record as lost (it alone writes the journal now), reads them back in
// order, and takes over. Every reader of the journal then goes on past the hole alike.
TEST_CASE("a takeover puts the journal records missing below ones the stream holds in it as lost",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = engine_stream(server, *link, "holed");
  publish_records(*link, c, 1, 2);
  publish_records(*link, c, 4, 4);
  publish_records(*link, c, 7, 8);
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::string>> handed;
  std::atomic<bool> promoted{false};
  journal_follower::hooks h;
  h.record = [&](std::uint64_t seq, std::string&& bytes) {
    std::lock_guard lock(mu);
    handed.emplace_back(seq, std::move(bytes));
  };
  h.promoted = [&](std::unique_ptr<engine_lease>) { promoted = true; };
  journal_follower f(c, 0, "", h);
  REQUIRE(shoal::test::wait_for([&] { return promoted || !f.error().empty(); }, 20s));
  REQUIRE(f.error().empty());
  CHECK(f.lost_records() == 3);
  {
    std::lock_guard lock(mu);
    REQUIRE(handed.size() == 8);
    for (std::uint64_t s = 1; s <= 8; ++s) {
      CHECK(handed[s - 1].first == s);
      if (s == 3 || s == 5 || s == 6) {
        CHECK(handed[s - 1].second == lost_journal_record("holed", s));
        const journal_record rec = decode_journal_record(handed[s - 1].second);
        const auto* r = std::get_if<Rejected>(&rec);
        REQUIRE(r);
        CHECK(r->stream.empty());  // no window takes it
        CHECK(r->reason.find("lost: journal record " + std::to_string(s)) == 0);
      } else {
        CHECK(handed[s - 1].second == "record " + std::to_string(s));
      }
    }
  }
  // The journal read back from the stream (replay --cluster, a new host) has no hole now.
  std::vector<std::uint64_t> read;
  const pulled_journal r = read_cluster_journal(
      *link, c, 0, [&](std::uint64_t seq, std::string&&) { read.push_back(seq); });
  CHECK(r.records == 8);
  CHECK(read == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8});
  // The stream's last message is stand-in 6: the journal still ends at 8.
  const auto end = last_journal_record(*link, c);
  REQUIRE(end);
  CHECK(end->seq == 8);
  CHECK(end->bytes == "record 8");
  CHECK(end->lost == std::vector<std::uint64_t>{3, 5, 6});
  // A stand-in for a record the stream holds is stored as its duplicate, and counts for none.
  CHECK(record_lost_journal(*link, c, {1}) == 0);
  CHECK(read_cluster_journal(*link, c, 0, [](std::uint64_t, std::string&&) {}).records == 8);

  // The dir of the process whose records were lost, started again as a standby: it holds
  // record 3 itself where the stream has the stand-in, so it is another history, refused.
  auto standby_on = [&](std::function<std::optional<std::string>(std::uint64_t)> local) {
    journal_follower::hooks g = not_contending([](std::uint64_t, std::string&&) {});
    g.local_record = std::move(local);
    g.local_dir = "old-dir";
    return std::make_unique<journal_follower>(c, 8, "record 8", g);
  };
  auto old = standby_on([](std::uint64_t s) { return "record " + std::to_string(s); });
  REQUIRE(shoal::test::wait_for([&] { return !old->error().empty(); }, 20s));
  CHECK(old->error().find("data dir old-dir is not engine holed's as the stream has it: its "
                          "journal record 3 is one stream SHOAL records as lost") == 0);
  // A dir that took the stand-ins (another standby) follows on.
  auto other = standby_on([&](std::uint64_t s) {
    return s == 3 || s == 5 || s == 6 ? lost_journal_record("holed", s)
                                      : "record " + std::to_string(s);
  });
  publish_records(*link, c, 9, 9);
  REQUIRE(shoal::test::wait_for([&] { return other->followed() == 9; }, 20s));
  CHECK(other->error().empty());
}

// The same hole found by an engine started on an empty dir (a new host, no standby): it holds the
// lease while it takes the journal from the cluster, so it records the missing one as lost too.
TEST_CASE("an empty dir taking the journal from the cluster records the ones missing as lost",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = engine_stream(server, *link, "holed2");
  // Journal records (the dir appends them as such): rejected frames of a stream.
  auto record = [](std::uint64_t s) {
    return encode_rejected(
        Rejected{"feed.scan", static_cast<std::int64_t>(s), "raw", "bad", 0, ""});
  };
  const std::vector<std::uint64_t> seqs{1, 2, 4};
  std::vector<std::string> bytes;
  for (const std::uint64_t s : seqs) bytes.push_back(record(s));
  std::vector<outgoing_message> msgs;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    msgs.push_back({"holed2:" + std::to_string(seqs[i]), "", bytes[i]});
  REQUIRE(link->publish(c.journal_subject(), msgs, 10'000).error.empty());
  shoal::testing::temp_dir dir;
  store db(dir.path().string());
  auto writer = std::make_shared<store_writer>(db);
  {
    journal_replicator r(c, db, writer, "");
    CHECK(r.stats().journal_lost == 1);
    REQUIRE(db.journal_last() == 4);
    CHECK(db.journal_bytes(1) == record(1));
    CHECK(db.journal_bytes(3) == lost_journal_record("holed2", 3));
    CHECK(db.journal_bytes(4) == record(4));
  }
  // As every reader of the stream reads it now.
  std::vector<std::string> read;
  read_cluster_journal(*link, c, 0, [&](std::uint64_t, std::string&& b) { read.push_back(b); });
  CHECK(read == std::vector<std::string>{record(1), record(2), lost_journal_record("holed2", 3),
                                         record(4)});

  // The dir of the process whose record 3 was lost, started again: it holds record 3 itself,
  // and is refused, both while the stand-in is the stream's last message and once another
  // process journaled on (records 5..6: its start catches up then).
  shoal::testing::temp_dir old_dir;
  store old_db(old_dir.path().string());
  auto old_writer = std::make_shared<store_writer>(old_db);
  for (const std::uint64_t s : {1, 2, 3, 4}) old_writer->append_journal(record(s));
  old_writer->flush();
  auto refused = [&] {
    try {
      journal_replicator r(c, old_db, old_writer, "");
      FAIL("a dir holding a record the stream has as lost was taken");
    } catch (const cluster_error& e) {
      CHECK(std::string(e.what()).find(
                "its journal record 3 is one stream SHOAL records as lost") != std::string::npos);
    }
  };
  refused();
  msgs.clear();
  bytes.clear();
  for (const std::uint64_t s : {5, 6}) bytes.push_back(record(s));
  for (std::size_t i = 0; i < 2; ++i)
    msgs.push_back({"holed2:" + std::to_string(5 + i), "", bytes[i]});
  REQUIRE(link->publish(c.journal_subject(), msgs, 10'000).error.empty());
  refused();
}
