// Checkpoints in the cluster against a real nats-server: a checkpoint larger than a message goes
// in chunks and comes back byte for byte; an older one never replaces a newer one; a damaged or
// incomplete one is an error naming what is wrong, not a restore of wrong state; an empty data dir
// takes one only when it fits (same config, journal through its position); the uploader writes
// only what the cluster's journal covers, and the latest it was offered, and a replication lag
// longer than the time between checkpoints does not keep every one of them out.
#include <catch2/catch.hpp>

#include <atomic>

#include "messages/msgpack_codec.hpp"
#include "nats_server.hpp"
#include "runtime/cluster/checkpoint_sweeper.hpp"
#include "runtime/cluster/cluster_checkpoint.hpp"
#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/node_placement.hpp"
#include "runtime/cluster/placement_exchange.hpp"
#include "runtime/graph/node_id.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"
#include "wait_for.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::nats_server;
using shoal::testing::temp_dir;

namespace {

cluster_decl decl(const nats_server& s, const std::string& engine_id) {
  return shoal::testing::one_server_cluster(s, engine_id);
}

// A node state of `n` bytes holding every byte value (NULs among them: values are bytes).
std::string bytes_of(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) % 256);
  return s;
}

// The journal record `seq` of a history: the tests' journals hold these bytes.
std::optional<std::string> record(std::uint64_t seq, const std::string& history = "h1") {
  return history + " record " + std::to_string(seq);
}

cluster_checkpoint sample(std::uint64_t pos, const std::string& history = "h1") {
  cluster_checkpoint cp;
  cp.journal_pos = pos;
  cp.journal_sha256 = sha256_hex(*record(pos, history));
  cp.base_graph_hash = "feedbeef";
  cp.meta = to_msgpack(Value(value_map{{"journal_pos", Value(pos)}, {"strategies", Value()}}));
  // NodeIDs are SHA-256 hex.
  cp.state = {{std::string(64, 'a'), bytes_of(2500, 1)},
              {std::string(64, 'b'), bytes_of(10, 2)},
              {std::string(64, 'c'), std::string()}};
  return cp;
}

void check_equal(const cluster_checkpoint& a, const cluster_checkpoint& b) {
  CHECK(a.journal_pos == b.journal_pos);
  CHECK(a.journal_sha256 == b.journal_sha256);
  CHECK(a.base_graph_hash == b.base_graph_hash);
  CHECK(a.meta == b.meta);
  CHECK(a.state == b.state);
}

// The cluster's journal through `through`, then the uploader finishing: what it wrote.
checkpoint_uploader::stats finish_covered(checkpoint_uploader& up,
                                          std::atomic<std::uint64_t>& replicated,
                                          std::uint64_t through) {
  replicated = through;
  CHECK(up.finish(std::chrono::seconds(10)));
  return up.snapshot();
}

}  // namespace

TEST_CASE("a checkpoint goes into the cluster in chunks and comes back byte for byte",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  checkpoint_store cs(*link, decl(server, "e1"), 1000);
  CHECK_FALSE(cs.get());  // none yet
  const cluster_checkpoint cp = sample(10);
  check_equal(decode_cluster_checkpoint(encode_cluster_checkpoint(cp)), cp);
  const checkpoint_put r = cs.put(cp, "host-1");
  CHECK(r.written);
  CHECK(r.bytes == encode_cluster_checkpoint(cp).size());
  CHECK(r.chunks == (r.bytes + 999) / 1000);
  REQUIRE(r.chunks >= 3);
  const auto back = cs.get();
  REQUIRE(back);
  check_equal(*back, cp);

  // Another engine's checkpoints in the same bucket stay apart.
  checkpoint_store other(*link, decl(server, "e2"), 1000);
  CHECK_FALSE(other.get());
  CHECK(other.put(sample(3), "host-2").written);
  CHECK(other.get()->journal_pos == 3);
  CHECK(cs.get()->journal_pos == 10);

  // A smaller checkpoint in the same slot later: the chunks beyond its count go.
  REQUIRE(cs.put(sample(11), "host-1").written);  // slot b
  cluster_checkpoint small = sample(12);
  small.state.clear();
  const checkpoint_put s = cs.put(small, "host-1");  // slot a again
  REQUIRE(s.written);
  REQUIRE(s.chunks == 1);
  CHECK(link->kv_get(cs.bucket(), "e1.a.0"));
  for (std::uint64_t i = 1; i < r.chunks; ++i)
    CHECK_FALSE(link->kv_get(cs.bucket(), "e1.a." + std::to_string(i)));
  CHECK(link->kv_get(cs.bucket(), "e1.b.2"));  // the other slot's are its own
  check_equal(*cs.get(), small);
}

TEST_CASE("a placed process's checkpoints stay apart from its engine's and its peers'",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = decl(server, "e1");
  checkpoint_store engine(*link, c, 1000);
  checkpoint_store b(*link, c, 1000, process_checkpoint_name(c, "vm-0000000b"));
  checkpoint_store d(*link, c, 1000, process_checkpoint_name(c, "vm-0000000d"));
  CHECK_FALSE(read_process_checkpoints(c, "vm-0000000b").latest);  // none yet
  REQUIRE(engine.put(sample(20), "active").written);
  REQUIRE(b.put(sample(7), "vm-0000000b").written);
  REQUIRE(d.put(sample(9), "vm-0000000d").written);
  // Each under its own head: a later one of the engine or a peer is no reason to refuse it.
  CHECK(link->kv_get(engine.bucket(), "e1.vm-0000000b.head"));
  CHECK(engine.get()->journal_pos == 20);
  const auto back = read_process_checkpoints(c, "vm-0000000b").latest;
  REQUIRE(back);
  check_equal(*back, sample(7));
  CHECK(read_process_checkpoints(c, "vm-0000000d").latest->journal_pos == 9);
  // Its chunks removed as the engine's are, within its own name only.
  REQUIRE(b.put(sample(8), "vm-0000000b").written);
  cluster_checkpoint small = sample(10);
  small.state.clear();
  REQUIRE(b.put(small, "vm-0000000b").written);
  CHECK_FALSE(link->kv_get(b.bucket(), "e1.vm-0000000b.a.1"));
  CHECK(link->kv_get(engine.bucket(), "e1.a.1"));
  check_equal(*read_process_checkpoints(c, "vm-0000000b").latest, small);
  // A damaged one names the process; the one before it still reads, until it is damaged too.
  link->kv_delete(b.bucket(), "e1.vm-0000000b.a.0");
  const auto damaged = read_process_checkpoints(c, "vm-0000000b");
  CHECK_FALSE(damaged.latest);
  CHECK_THAT(damaged.latest_why_not,
             Catch::Contains("process vm-0000000b of engine e1") && Catch::Contains("is missing"));
  REQUIRE(damaged.previous);
  check_equal(*damaged.previous, sample(8));
  link->kv_delete(b.bucket(), "e1.vm-0000000b.b.0");
  CHECK_THROWS_WITH(
      read_process_checkpoints(c, "vm-0000000b"),
      Catch::Contains("process vm-0000000b of engine e1") && Catch::Contains("is missing"));
}

TEST_CASE("the checkpoints of a process gone for good leave the cluster after the retention",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  cluster_decl c = decl(server, "e1");
  c.members = 3;
  c.heartbeat_ttl_ns = 5'000'000'000;  // no member key expires during the test
  checkpoint_store engine(*link, c, 1000);
  REQUIRE(engine.put(sample(20), "active").written);
  for (const char* p : {"vm-0000000a", "vm-0000000b", "vm-0000000c", "vm-0000000d"})
    REQUIRE(
        checkpoint_store(*link, c, 1000, process_checkpoint_name(c, p)).put(sample(9), p).written);
  CHECK(checkpointed_processes(*link, c) ==
        std::vector<std::string>{"vm-0000000a", "vm-0000000b", "vm-0000000c", "vm-0000000d"});
  auto member = [&](const char* name, std::map<std::string, std::uint64_t> published) {
    return std::make_unique<member_heartbeat>(
        c, cluster_member{name, "standby", "tcp://127.0.0.1:1", "", "g", std::move(published), {}});
  };
  // a is listed among the members; b is placed, its key gone (its nodes not moved yet); c and d
  // are neither, but node n1 came to b from c, and b has not said it published n1: its heir
  // still reads c's checkpoint when it restarts.
  auto a = member("vm-0000000a", {});
  placement_record r;
  r.holder = "active";
  r.graph_hash = "g";
  r.members = {"vm-0000000b", "vm-0000000e"};
  r.nodes = {{"n1", "vm-0000000b"}};
  r.handed_from = {{"n1", "vm-0000000c"}};
  link->ensure_kv(placement_bucket(c), 0, 1);
  link->kv_put(placement_bucket(c), c.engine_id, encode_placement(r));
  checkpoint_sweeper sweeper(c, std::chrono::seconds(60), std::chrono::seconds(60), false);
  const auto t0 = std::chrono::steady_clock::now();
  using names = std::vector<std::string>;
  using std::chrono::seconds;
  CHECK(sweeper.sweep(t0).empty());  // d seen gone from now on
  CHECK(sweeper.snapshot().waiting == names{"vm-0000000d"});
  // b says it published n1: c is no longer kept for it.
  auto b = member("vm-0000000b", {{"n1", 5}});
  CHECK(sweeper.sweep(t0 + seconds(10)).empty());
  CHECK(sweeper.snapshot().waiting == names{"vm-0000000c", "vm-0000000d"});
  // d comes back (its dir started again): it is kept, and its wait is forgotten.
  auto d = member("vm-0000000d", {});
  CHECK(sweeper.sweep(t0 + seconds(69)).empty());
  CHECK(sweeper.sweep(t0 + seconds(71)) == names{"vm-0000000c"});
  CHECK_FALSE(read_process_checkpoints(c, "vm-0000000c").latest);
  // Its chunks too, erased without a marker: no listing finds them again.
  CHECK(link->kv_keys(engine.bucket(), "e1.vm-0000000c.").empty());
  CHECK(checkpointed_processes(*link, c) == names{"vm-0000000a", "vm-0000000b", "vm-0000000d"});
  CHECK(engine.get()->journal_pos == 20);  // the engine's own stays
  CHECK(read_process_checkpoints(c, "vm-0000000b").latest);
  // d goes again: its wait starts anew.
  d.reset();  // its key deleted
  CHECK(sweeper.sweep(t0 + seconds(100)).empty());
  CHECK(sweeper.sweep(t0 + seconds(159)).empty());
  CHECK(sweeper.sweep(t0 + seconds(161)) == names{"vm-0000000d"});
  CHECK(sweeper.snapshot().removed == names{"vm-0000000c", "vm-0000000d"});
  CHECK(sweeper.snapshot().removed_count == 2);
  // A placement that cannot be read stops the sweep: nothing is taken for gone.
  link->kv_put(placement_bucket(c), c.engine_id, "not a placement");
  b.reset();
  CHECK_THROWS_WITH(sweeper.sweep(t0 + seconds(3600)),
                    Catch::Contains("placement of engine e1 cannot be read"));
  CHECK(read_process_checkpoints(c, "vm-0000000b").latest);
}

TEST_CASE("an older checkpoint never replaces a newer one in the cluster", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  checkpoint_store cs(*link, decl(server, "e1"), 1000);
  REQUIRE(cs.put(sample(10), "new-holder").written);
  // The process that lost the engine writes a checkpoint from before: refused, the newer stays.
  const checkpoint_put old = cs.put(sample(5), "old-holder");
  CHECK_FALSE(old.written);
  CHECK(old.held == 10);
  CHECK_FALSE(cs.put(sample(10), "old-holder").written);
  CHECK(cs.get()->journal_pos == 10);
  // Later ones go to the other slot each time, so a reader never reads chunks being written.
  CHECK(cs.put(sample(20), "new-holder").written);
  CHECK(cs.get()->journal_pos == 20);
  const auto keys = link->kv_keys(cs.bucket(), "e1.");
  CHECK(std::count(keys.begin(), keys.end(), "e1.a.0") == 1);
  CHECK(std::count(keys.begin(), keys.end(), "e1.b.0") == 1);
}

TEST_CASE("the head names the checkpoint before the last, which a heir may fall back to",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  const cluster_decl c = decl(server, "e1");
  const std::string b = process_checkpoint_name(c, "vm-0000000b");
  checkpoint_store cs(*link, c, 1000, b);
  CHECK_FALSE(read_process_checkpoints(c, "vm-0000000b").latest);
  REQUIRE(cs.put(sample(10), "vm-0000000b").written);  // slot a
  CHECK_FALSE(cs.get_both().previous);                 // one only
  REQUIRE(cs.put(sample(20), "vm-0000000b").written);  // slot b
  auto both = read_process_checkpoints(c, "vm-0000000b");
  REQUIRE(both.latest);
  REQUIRE(both.previous);
  check_equal(*both.latest, sample(20));
  check_equal(*both.previous, sample(10));
  CHECK(both.previous_why_not.empty());
  // A refused write (older) leaves both as they were.
  CHECK_FALSE(cs.put(sample(15), "vm-0000000b").written);
  CHECK(cs.get_both().previous->journal_pos == 10);
  // The next write takes the previous one's slot: the one it replaces becomes the previous.
  REQUIRE(cs.put(sample(30), "vm-0000000b").written);  // slot a again
  both = read_process_checkpoints(c, "vm-0000000b");
  CHECK(both.latest->journal_pos == 30);
  check_equal(*both.previous, sample(20));
  // Damaged chunks of the previous one: the latest still reads, the fallback says why it cannot.
  link->kv_delete(cs.bucket(), b + ".b.1");
  both = read_process_checkpoints(c, "vm-0000000b");
  CHECK(both.latest->journal_pos == 30);
  CHECK_FALSE(both.previous);
  CHECK_THAT(both.previous_why_not, Catch::Contains("the checkpoint before the last one") &&
                                        Catch::Contains("journal record 20") &&
                                        Catch::Contains("chunk " + b + ".b.1 is missing"));

  // The head as one written before heads named the previous one, or with a "prev" that cannot
  // be read: the latest reads as ever, there is no fallback, and the next write goes on.
  const auto head_key = b + ".head";
  const Value written = from_msgpack(link->kv_get(cs.bucket(), head_key)->value);
  for (const Value& prev : {Value(), Value(std::string("not a head")),
                            Value(value_map{{"slot", Value(std::string("a"))}})}) {
    value_map h = written.as_map();
    h.erase("prev");
    if (!prev.is_nil()) h["prev"] = prev;
    link->kv_put(cs.bucket(), head_key, to_msgpack(Value(h)));
    both = cs.get_both();
    REQUIRE(both.latest);
    check_equal(*both.latest, sample(30));
    CHECK_FALSE(both.previous);
    CHECK(both.previous_why_not.empty());
  }
  REQUIRE(cs.put(sample(40), "vm-0000000b").written);  // slot b: the head said a
  both = cs.get_both();
  check_equal(*both.latest, sample(40));
  check_equal(*both.previous, sample(30));
  // A damaged latest does not hide the one before it (the other slot); get() has no fallback.
  link->kv_delete(cs.bucket(), b + ".b.1");
  both = read_process_checkpoints(c, "vm-0000000b");
  CHECK_FALSE(both.latest);
  CHECK_THAT(both.latest_why_not, Catch::Contains("journal record 40) is damaged") &&
                                      Catch::Contains("chunk " + b + ".b.1 is missing"));
  REQUIRE(both.previous);
  check_equal(*both.previous, sample(30));
  CHECK_THROWS_WITH(cs.get(), Catch::Contains("is damaged"));
  // Both damaged: nothing of it can be read, and the error says why of each.
  link->kv_delete(cs.bucket(), b + ".a.0");
  CHECK_THROWS_WITH(cs.get_both(), Catch::Contains("journal record 40) is damaged") &&
                                       Catch::Contains("journal record 30) is damaged") &&
                                       Catch::Contains("chunk " + b + ".a.0 is missing"));

  // A checkpoint of another history replaces the head without naming it as the previous one.
  checkpoint_store other(*link, decl(server, "e2"), 1000);
  REQUIRE(other.put(sample(50, "old"), "h").written);
  REQUIRE(other.put(sample(60, "new"), "h", [](std::uint64_t seq) { return record(seq, "new"); })
              .written);
  CHECK_FALSE(other.get_both().previous);
}

TEST_CASE("a checkpoint of another journal history is replaced, not kept for being later",
          "[cluster]") {
  nats_server server;
  auto link = connect(server);
  checkpoint_store cs(*link, decl(server, "e1"), 1000);
  // A stream made anew under the same engine_id: the old history's checkpoint is at 50.
  REQUIRE(cs.put(sample(50, "old"), "old-host").written);
  const journal_record_fn mine = [](std::uint64_t seq) -> std::optional<std::string> {
    return seq <= 60 ? record(seq, "new") : std::nullopt;
  };
  // Behind it, the new history cannot tell yet: the later head stands.
  CHECK_FALSE(cs.put(sample(40, "new"), "new-host", [](std::uint64_t seq) {
                  return seq <= 40 ? record(seq, "new") : std::nullopt;
                }).written);
  // Past it, its own record 50 differs from the one the head names: replaced.
  CHECK(cs.put(sample(45, "new"), "new-host", mine).written);
  CHECK(cs.get()->journal_sha256 == sample(45, "new").journal_sha256);
  // Of the same history, a later head stands as before.
  CHECK(cs.put(sample(58, "new"), "new-host", mine).written);
  CHECK_FALSE(cs.put(sample(55, "new"), "new-host", mine).written);
}

TEST_CASE("a damaged checkpoint in the cluster is an error that says what is wrong", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  checkpoint_store cs(*link, decl(server, "e1"), 1000);
  REQUIRE(cs.put(sample(10), "host-1").written);  // the first goes to slot a
  auto error_of = [&] {
    try {
      cs.get();
    } catch (const cluster_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  link->kv_put(cs.bucket(), "e1.a.1", bytes_of(1000, 7));  // one chunk overwritten
  CHECK_THAT(error_of(), Catch::Contains("damaged") && Catch::Contains("SHA-256"));
  link->kv_delete(cs.bucket(), "e1.a.2");
  CHECK_THAT(error_of(), Catch::Contains("chunk e1.a.2 is missing"));
  link->kv_put(cs.bucket(), "e1.head", "not a head");
  CHECK_THAT(error_of(), Catch::Contains("e1.head cannot be read"));
  // A new checkpoint mends it.
  CHECK(cs.put(sample(11), "host-1").written);
  CHECK(cs.get()->journal_pos == 11);
}

TEST_CASE("an empty data dir takes the cluster's checkpoint only when it fits", "[cluster]") {
  nats_server server;
  const cluster_decl c = decl(server, "e1");
  {
    auto link = connect(server);
    checkpoint_store cs(*link, c);
    REQUIRE(cs.put(sample(10), "host-1").written);
  }
  // A dir holding `records` journal records of `history`.
  struct dir_with_journal {
    temp_dir dir;
    store db{dir.path().string(), true};
    store_writer w{db};
    dir_with_journal(std::uint64_t records, const std::string& history) {
      for (std::uint64_t i = 1; i <= records; ++i) w.append_journal(*record(i, history));
      w.flush();
    }
    ~dir_with_journal() { w.stop(); }
  };
  auto restore = [&](const cluster_decl& cd, const std::string& hash, dir_with_journal& d) {
    return restore_cluster_checkpoint(cd, hash, d.db, d.w);
  };
  dir_with_journal behind(9, "h1"), other(12, "h2"), fits(12, "h1");
  checkpoint_restore r = restore(decl(server, "nobody"), "feedbeef", fits);
  CHECK_FALSE(r.restored);
  CHECK_THAT(r.why_not, Catch::Contains("holds no checkpoint of engine nobody"));
  r = restore(c, "0123456789abcdef", fits);
  CHECK_FALSE(r.restored);
  CHECK_THAT(r.why_not, Catch::Contains("another config") && Catch::Contains("feedbeef"));
  r = restore(c, "feedbeef", behind);  // the journal it pulled ends before the checkpoint
  CHECK_FALSE(r.restored);
  CHECK_THAT(r.why_not, Catch::Contains("past the journal's 9 records"));
  r = restore(c, "feedbeef", other);  // as long, but another history
  CHECK_FALSE(r.restored);
  CHECK_THAT(r.why_not, Catch::Contains("belongs to another journal: its record 10 differs"));
  for (dir_with_journal* d : {&behind, &other}) {
    d->w.flush();
    CHECK(d->db.all_state().empty());
    CHECK_FALSE(d->db.get_meta("checkpoint"));
  }

  r = restore(c, "feedbeef", fits);
  REQUIRE(r.restored);
  CHECK(r.journal_pos == 10);
  CHECK(r.nodes == 3);
  CHECK(fits.db.get_meta("checkpoint") == sample(10).meta);
  CHECK(fits.db.all_state() == sample(10).state);

  // A placed process's share, or a meta naming another position, is not restored either: the
  // one before it is, when it fits.
  auto link = connect(server);
  checkpoint_store cs(*link, c);
  cluster_checkpoint share = sample(11);
  share.meta = to_msgpack(Value(value_map{{"journal_pos", Value(11)}, {"computed", Value()}}));
  REQUIRE(cs.put(share, "host-1").written);
  // The dir took the one before the latest, sample(10), and says why not the latest.
  auto took_previous = [](const checkpoint_restore& r, dir_with_journal& d,
                          const std::string& why) {
    REQUIRE(r.restored);
    CHECK(r.previous);
    CHECK(r.journal_pos == 10);
    CHECK_THAT(r.latest_why_not, Catch::Contains(why));
    CHECK(d.db.all_state() == sample(10).state);
  };
  dir_with_journal fresh(12, "h1");
  took_previous(restore(c, "feedbeef", fresh), fresh, "a placed process's share");
  cluster_checkpoint shifted = sample(12);
  shifted.meta = sample(11).meta;
  REQUIRE(cs.put(shifted, "host-1").written);  // the share before it: neither fits
  dir_with_journal fresh2(12, "h1");
  r = restore(c, "feedbeef", fresh2);
  CHECK_FALSE(r.restored);
  CHECK_THAT(r.why_not, Catch::Contains("another journal position") &&
                            Catch::Contains("(the one before it: ") &&
                            Catch::Contains("a placed process's share"));
  fresh2.w.flush();
  CHECK(fresh2.db.all_state().empty());
  // A damaged latest: the one before it, when it fits.
  const cluster_decl c2 = decl(server, "e2");
  checkpoint_store cs2(*link, c2);
  REQUIRE(cs2.put(sample(10), "host-1").written);  // slot a
  REQUIRE(cs2.put(sample(11), "host-1").written);  // slot b
  link->kv_delete(cs2.bucket(), "e2.b.0");
  dir_with_journal fresh3(12, "h1");
  took_previous(restore(c2, "feedbeef", fresh3), fresh3, "is damaged: chunk e2.b.0 is missing");
}

TEST_CASE("the uploader writes what the cluster's journal covers, the latest it was offered",
          "[cluster]") {
  nats_server server;
  const cluster_decl c = decl(server, "e1");
  {
    auto link = connect(server);  // the server answers before the uploader connects
  }
  std::atomic<std::uint64_t> replicated{0};
  {
    checkpoint_uploader up(
        c, "host-1", [&] { return replicated.load(); },
        [](std::uint64_t seq) { return record(seq); });
    up.offer(sample(10));
    // The journal through record 10 is not in the cluster: a host restoring it could not read
    // on from there. finish() waits for it up to its deadline, then gives up.
    CHECK_FALSE(up.finish(std::chrono::milliseconds(500)));
    CHECK(up.snapshot().uploads == 0);
  }
  auto link = connect(server);
  checkpoint_store cs(*link, c);
  CHECK_FALSE(cs.get());
  {
    checkpoint_uploader up(
        c, "host-1", [&] { return replicated.load(); },
        [](std::uint64_t seq) { return record(seq); });
    cluster_checkpoint unnamed = sample(12);
    unnamed.journal_sha256.clear();  // the uploader names the record itself, from the journal
    up.offer(sample(10));
    up.offer(
        std::move(unnamed));  // before the journal is there: the newer one goes, the older never
    const auto s = finish_covered(up, replicated, 12);
    CHECK(s.uploads == 1);
    CHECK(s.journal_pos == 12);
    CHECK(s.failures == 0);
  }
  CHECK(cs.get()->journal_pos == 12);
  CHECK(cs.get()->journal_sha256 == sample(12).journal_sha256);
}

TEST_CASE("a checkpoint waiting to go is never dropped for a newer one", "[cluster]") {
  // Two wait at most: the oldest offered and the latest. The latest goes once the cluster holds
  // the journal through it, else the oldest once it holds the journal through that.
  nats_server server;
  const cluster_decl c = decl(server, "e1");
  { auto link = connect(server); }
  std::atomic<std::uint64_t> replicated{0};
  checkpoint_uploader up(
      c, "host-1", [&] { return replicated.load(); },
      [](std::uint64_t seq) { return record(seq); });

  SECTION("a replication lag longer than the time between checkpoints") {
    // Each one is offered before the journal through the last one's position is in the
    // cluster. Were the newest to take the waiting one's place, none would ever go.
    up.offer(sample(10));
    up.offer(sample(20));
    up.offer(sample(30));
    replicated = 25;  // past the first and the second, not the third
    REQUIRE(shoal::test::wait_for([&] { return up.snapshot().uploads == 1; }));
    CHECK(up.snapshot().journal_pos == 10);  // the one that waited
    const auto s = finish_covered(up, replicated, 30);
    CHECK(s.uploads == 2);
    CHECK(s.journal_pos == 30);
    CHECK(s.skipped == 1);  // the one at 20, overtaken by 30 while 10 waited
    CHECK(s.failures == 0);
  }

  SECTION("a covered checkpoint held by the second between two writes") {
    // The first goes at once; the second, covered, waits for the second that must pass; a third
    // comes meanwhile, not covered yet. The second goes (the newest the cluster can restore from),
    // and the third after it once covered.
    replicated = 20;
    up.offer(sample(10));
    REQUIRE(shoal::test::wait_for([&] { return up.snapshot().uploads == 1; }));
    up.offer(sample(20));
    up.offer(sample(30));
    REQUIRE(shoal::test::wait_for([&] { return up.snapshot().uploads == 2; }));
    CHECK(up.snapshot().journal_pos == 20);
    const auto s = finish_covered(up, replicated, 30);
    CHECK(s.uploads == 3);
    CHECK(s.journal_pos == 30);
    CHECK(s.skipped == 0);
  }
}

TEST_CASE("a heir takes the latest checkpoint that serves, else the one before it", "[cluster]") {
  // Serves when its journal position is even: the reasons name the position.
  auto unfit = [](const cluster_checkpoint& cp) -> std::string {
    return cp.journal_pos % 2 == 0 ? "" : "odd " + std::to_string(cp.journal_pos);
  };
  auto both = [](std::optional<std::uint64_t> latest, std::optional<std::uint64_t> previous) {
    process_checkpoints cps;
    if (latest) cps.latest = sample(*latest);
    if (previous) cps.previous = sample(*previous);
    return cps;
  };
  chosen_checkpoint c = choose_checkpoint(both(std::nullopt, std::nullopt), unfit);
  CHECK_FALSE(c.checkpoint);
  CHECK(c.none_held);
  CHECK(c.why_not == "it put no checkpoint in the cluster");
  // The latest serves: taken, whatever the one before it is.
  c = choose_checkpoint(both(20, 10), unfit);
  REQUIRE(c.checkpoint);
  CHECK(c.checkpoint->journal_pos == 20);
  CHECK_FALSE(c.previous);
  CHECK(c.latest_why_not.empty());
  // It does not: the one before it, with the reason for the log.
  c = choose_checkpoint(both(21, 10), unfit);
  REQUIRE(c.checkpoint);
  check_equal(*c.checkpoint, sample(10));
  CHECK(c.previous);
  CHECK(c.latest_why_not == "odd 21");
  // Neither does: why of both.
  c = choose_checkpoint(both(21, 11), unfit);
  CHECK_FALSE(c.checkpoint);
  CHECK_FALSE(c.none_held);
  CHECK(c.why_not == "odd 21 (the one before it: odd 11)");
  // No one before it: why the latest does not, and why the one before cannot be read.
  c = choose_checkpoint(both(21, std::nullopt), unfit);
  CHECK_FALSE(c.checkpoint);
  CHECK(c.why_not == "odd 21");
  process_checkpoints cps = both(21, std::nullopt);
  cps.previous_why_not = "the checkpoint before the last one is damaged";
  c = choose_checkpoint(std::move(cps), unfit);
  CHECK(c.why_not == "odd 21; the checkpoint before the last one is damaged");
  // A damaged latest (get_both's latest_why_not): the one before it, checked the same way.
  cps = both(std::nullopt, 10);
  cps.latest_why_not = "the checkpoint of P (journal record 20) is damaged";
  c = choose_checkpoint(std::move(cps), unfit);
  REQUIRE(c.checkpoint);
  CHECK(c.previous);
  CHECK(c.checkpoint->journal_pos == 10);
  CHECK(c.latest_why_not == "the checkpoint of P (journal record 20) is damaged");
  cps = both(std::nullopt, 11);
  cps.latest_why_not = "damaged";
  c = choose_checkpoint(std::move(cps), unfit);
  CHECK_FALSE(c.checkpoint);
  CHECK(c.why_not == "damaged (the one before it: odd 11)");
}
