// The JetStream link against a real nats-server (one server, JetStream on, files in a temp dir):
// a producer that retries a publish with the same message id stores it once (the retry is
// acknowledged as a duplicate), the subject's last message names the last record, and a read
// from a stream sequence returns the records in order with their ids; a process whose placement
// was written over by the one that took the lease cannot write it again; a key rewritten while the
// keys are listed is listed once and never missed.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nats/nats.h>

#include "nats_server.hpp"
#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/placement_exchange.hpp"
#include "wait_for.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::free_port;
using shoal::testing::nats_server;
using shoal::testing::temp_dir;

TEST_CASE("a publish retried with the same message id is stored once", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  cluster_decl c;
  c.replicas = 1;
  c.engine_id = "e1";
  link->ensure_stream(c);
  link->ensure_stream(c);  // a second engine finds it made

  const std::string a = "record one", b = "record two";
  auto first = link->publish(c.journal_subject(), {{"e1:1", "", a}, {"e1:2", "", b}}, 5000);
  CHECK(first.error.empty());
  CHECK(first.stored == 2);
  CHECK(first.duplicates == 0);

  // The producer did not see its acks (say) and sends both again, then the next record.
  const std::string c3 = "record three";
  auto retry = link->publish(c.journal_subject(),
                             {{"e1:1", "", a}, {"e1:2", "", b}, {"e1:3", "", c3}}, 5000);
  CHECK(retry.error.empty());
  CHECK(retry.stored == 3);
  CHECK(retry.duplicates == 2);

  const auto last = link->last_message(c.stream, c.journal_subject());
  REQUIRE(last);
  CHECK(last->stream_seq == 3);  // three messages in the stream, not five
  CHECK(last->msg_id == "e1:3");
  CHECK(last->data == c3);
  CHECK_FALSE(link->last_message(c.stream, c.config_subject()));

  std::vector<stored_message> read;
  link->read(c.stream, c.journal_subject(), 1, last->stream_seq,
             [&](const stored_message& m) { read.push_back(m); });
  REQUIRE(read.size() == 3);
  CHECK(read[0].msg_id == "e1:1");
  CHECK(read[0].data == a);
  CHECK(read[1].stream_seq == 2);
  CHECK(read[2].data == c3);
}

TEST_CASE("a read slower than the stream's delivery still gets every message, once and in order",
          "[cluster]") {
  // More messages than the client holds for a subscription (500 here; nats.c's default is
  // 65,536): while the reader is busy with the first one, the rest arrive and the library drops
  // what does not fit ("slow consumer"). The reader starts again after the last message it
  // gave: nothing is lost or given twice.
  nats_server server;
  auto link = connect(server);
  cluster_decl c;
  c.replicas = 1;
  c.engine_id = "slow";
  link->ensure_stream(c);
  constexpr std::uint64_t n = 5'000;
  std::vector<std::string> data(n + 1);
  std::vector<outgoing_message> msgs;
  for (std::uint64_t k = 1; k <= n; ++k) {
    data[k] = std::to_string(k);
  }
  for (std::uint64_t k = 1; k <= n; ++k) {
    msgs.push_back({"slow:" + data[k], "", data[k]});
  }
  REQUIRE(link->publish(c.journal_subject(), msgs, 30'000).error.empty());
  for (const std::uint64_t from : {std::uint64_t{1}, std::uint64_t{1'234}}) {
    std::uint64_t expected = from;
    bool in_order = true;
    link->read(
        c.stream, c.journal_subject(), from, n,
        [&](const stored_message& m) {
          if (m.stream_seq == from) {
            // Busy while the server delivers the rest of the stream behind this message.
            std::this_thread::sleep_for(std::chrono::seconds(1));
          }
          in_order = in_order && m.stream_seq == expected && m.data == data[expected];
          ++expected;
        },
        10'000, 500);
    CHECK(in_order);
    CHECK(expected == n + 1);
  }
}

TEST_CASE("no server answering is a clear error", "[cluster]") {
  const int port = free_port();  // nothing listens there
  cluster_decl c;
  c.servers = {"nats://127.0.0.1:" + std::to_string(port)};
  try {
    jetstream_link link(c, "test");
    FAIL("connected to nothing");
  } catch (const cluster_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot connect to the NATS cluster") &&
                             Catch::Contains(std::to_string(port)));
  }
}

TEST_CASE("a credential file open to others or missing is refused before connecting", "[cluster]") {
  temp_dir dir;
  cluster_decl c;
  c.servers = {"nats://127.0.0.1:" + std::to_string(free_port())};  // never reached
  auto error_of = [&] {
    try {
      jetstream_link link(c, "test");
    } catch (const cluster_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  c.security.user = "shoal";
  c.security.password_file = dir.write("password", "s3cret\n");
  ::chmod(c.security.password_file.c_str(), 0644);
  CHECK_THAT(error_of(), Catch::Contains(c.security.password_file) &&
                             Catch::Contains("mode 0644") && Catch::Contains("chmod 600"));
  ::chmod(c.security.password_file.c_str(), 0600);
  // A private password file passes; then nobody answers.
  CHECK_THAT(error_of(), Catch::Contains("cannot connect to the NATS cluster"));
  c.security.password_file = (dir.path() / "none").string();
  CHECK_THAT(error_of(), Catch::Contains("no such password file"));
  c.security = {};
  c.security.credentials_file = dir.write("engine.creds", "not a creds file\n");
  ::chmod(c.security.credentials_file.c_str(), 0640);
  CHECK_THAT(error_of(), Catch::Contains("NATS credentials file must be the owner's alone"));
  c.security = {};
  c.security.ca_file = dir.write("ca.pem", "not a certificate\n");
  CHECK_THAT(error_of(), Catch::Contains("cluster.tls.ca_file"));
}

TEST_CASE("a key written while the keys are listed is listed once and never missed", "[cluster]") {
  nats_server server;
  auto reader = connect(server);
  auto writer = connect(server);
  const std::string bucket = "listing";
  writer->ensure_kv(bucket, 60'000'000'000, 1);
  writer->kv_put(bucket, "e.a", "1", true);
  writer->kv_put(bucket, "e.b", "1", true);
  writer->kv_put(bucket, "other", "1", true);
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread rewrite([&] {
    // The renewals of a member: its key is written again and again while others list.
    while (!stop) {
      try {
        writer->kv_put(bucket, "e.a", std::to_string(writes.load()));
        ++writes;
      } catch (const cluster_error&) {
        // A put that timed out on a loaded machine: the next one goes on rewriting the key.
      }
    }
  });
  const std::vector<std::string> expected{"e.a", "e.b"};
  int listings = 0;
  int wrong = 0;
  int failed = 0;
  std::string seen;
  // Both sides busy for a while, whichever is the faster on this machine.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((listings < 500 || writes < 500) && std::chrono::steady_clock::now() < until) {
    std::vector<std::string> keys;
    try {
      keys = reader->kv_keys(bucket, "e.");
    } catch (const cluster_error&) {
      ++failed;  // a listing that timed out on a loaded machine says nothing either way
      continue;
    }
    ++listings;
    if (keys != expected) {
      ++wrong;
      for (const auto& k : keys) seen += k + " ";
      seen += "| ";
    }
  }
  INFO("wrong listings: " << seen);
  stop = true;
  rewrite.join();
  INFO(writes.load() << " writes during " << listings << " listings (" << failed
                     << " listings failed)");
  CHECK(writes >= 500);  // the key was written again and again while the listings were made
  CHECK(listings >= 500);
  CHECK(wrong == 0);
}

TEST_CASE("members are listed while they run and gone once they stop", "[cluster]") {
  nats_server server;
  auto link = connect(server);
  cluster_decl c;
  c.servers = {server.url()};
  c.replicas = 1;
  c.engine_id = "m1";
  CHECK(read_members(*link, c).empty());  // no engine ever ran: no bucket, no members
  auto active = std::make_unique<member_heartbeat>(
      c, cluster_member{"a", "active", "tcp://127.0.0.1:5576", "tcp://127.0.0.1:5577", "", {}, {}});
  cluster_decl other = c;
  other.engine_id = "m10";  // a name that m1 is a prefix of: not a member of m1
  member_heartbeat stranger(other,
                            cluster_member{"x", "active", "tcp://127.0.0.1:6000", "", "", {}, {}});
  {
    member_heartbeat standby(
        c, cluster_member{"b", "standby", "tcp://127.0.0.1:5578", "", "", {}, {}});
    auto ms = read_members(*link, c);
    REQUIRE(ms.size() == 2);
    CHECK(ms[0].instance == "a");
    CHECK(ms[0].snapshot == "tcp://127.0.0.1:5577");
    CHECK(ms[1].role == "standby");
    CHECK(ms[1].costs.empty());
    standby.set_costs({{"n1", 2.5e-5}});
    standby.set_role("active");
    CHECK(test::wait_for([&] { return read_members(*link, c).at(1).role == "active"; },
                         std::chrono::seconds(5)));
    CHECK(read_members(*link, c).at(1).costs == std::map<std::string, double>{{"n1", 2.5e-5}});
    // Every third renewal (about once per heartbeat_ttl, 3 s here) reads the members too: a
    // member knows the others. A renewal that times out on a loaded machine lists nothing, so
    // this allows for a few heartbeat_ttls (seen in CI: 5 s was not always enough).
    CHECK(test::wait_for([&] { return active->members().size() == 2; }, std::chrono::seconds(15)));
  }
  {
    const auto after = read_members(*link, c);  // a clean stop removes the key at once
    std::string listed;
    for (const auto& m : after) listed += m.instance + "(" + m.role + ") ";
    INFO("members listed: " << listed);
    CHECK(after.size() == 1);
  }
  active.reset();
  CHECK(read_members(*link, c).empty());
  CHECK(read_members(*link, other).size() == 1);
  {
    // A placed process that restarts leaves its key, marked away, to expire (heartbeat_ttl).
    member_heartbeat leaving(
        c, cluster_member{"d", "standby", "tcp://127.0.0.1:5579", "", "", {}, {}});
    leaving.keep_on_exit();
  }
  const auto left = read_members(*link, c);
  REQUIRE(left.size() == 1);
  CHECK(left[0].instance == "d");
  CHECK(left[0].role == "away");
}

TEST_CASE("an endpoint bound to every address is advertised with the host's name", "[cluster]") {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  CHECK(advertised_endpoint("tcp://0.0.0.0:5556") == "tcp://" + std::string(host) + ":5556");
  CHECK(advertised_endpoint("tcp://127.0.0.1:5556") == "tcp://127.0.0.1:5556");
  CHECK(advertised_endpoint("ipc:///tmp/x") == "ipc:///tmp/x");
}

TEST_CASE(
    "a placement written over by the process that took the lease is not updated by the one before",
    "[cluster]") {
  nats_server server;
  connect(server);  // waits for the server
  const cluster_decl c = shoal::testing::one_server_cluster(server, "p1");
  auto placed = [](const char* holder, const char* where) {
    placement_record r;
    r.holder = holder;
    r.graph_hash = "g";
    r.members = {"m1", "m2"};
    r.nodes = {{"n1", where}};
    return r;
  };
  using result = placement_channel::update_result;
  placement_channel before(c), after(c);
  before.write(placed("lease-1", "m1"), true);
  CHECK(before.update(placed("lease-1", "m2")) == result::written);  // its own later placement
  REQUIRE(after.read("g"));
  CHECK(after.read("g")->nodes.at("n1") == "m2");
  after.write(placed("lease-2", "m1"), true);  // took the lease: writes whatever is there
  CHECK(before.update(placed("lease-1", "m2")) == result::overwritten);
  CHECK(after.read("g")->holder == "lease-2");
  CHECK(after.update(placed("lease-2", "m2")) == result::written);
  CHECK(after.read("g")->nodes.at("n1") == "m2");
  CHECK(before.update(placed("lease-1", "m1")) == result::overwritten);
}

// An update whose acknowledgement was lost, found landed by the next update: that one is not
// written over it (it was made from the placement before), unless asked to.
TEST_CASE("a placement update finds an unacknowledged one landed and does not write over it",
          "[cluster]") {
  nats_server server;
  connect(server);
  const cluster_decl c = shoal::testing::one_server_cluster(server, "p1");
  auto placed = [](const char* where) {
    placement_record r;
    r.holder = "lease-1";
    r.graph_hash = "g";
    r.members = {"m1", "m2", "m3"};
    r.nodes = {{"n1", where}};
    return r;
  };
  using result = placement_channel::update_result;
  placement_channel ch(c), reader(c);
  ch.write(placed("m1"), true);
  ch.lose_next_ack();
  CHECK_THROWS_AS(ch.update(placed("m2")), cluster_error);  // it landed, unacknowledged
  CHECK(ch.update(placed("m3")) == result::unsure_landed);
  CHECK(reader.read("g")->nodes.at("n1") == "m2");
  CHECK(ch.holds_one({placed("m1"), placed("m2")}) == std::optional<std::size_t>(1));
  CHECK(ch.update(placed("m3")) == result::written);  // from there on
  CHECK(reader.read("g")->nodes.at("n1") == "m3");
  // One the caller no longer keeps: written over when asked.
  ch.lose_next_ack();
  CHECK_THROWS_AS(ch.update(placed("m1")), cluster_error);
  CHECK(ch.update(placed("m2"), true) == result::written);
  CHECK(reader.read("g")->nodes.at("n1") == "m2");
}

// A placement update no server took (no stream listens on the bucket's subjects: its stream was
// removed under it) was not stored: refused, not kept as one that may have landed.
TEST_CASE("a placement update no server took is refused, not kept unsure", "[cluster]") {
  nats_server server;
  connect(server);
  const cluster_decl c = shoal::testing::one_server_cluster(server, "p1");
  placement_record r;
  r.holder = "lease-1";
  r.graph_hash = "g";
  r.members = {"m1"};
  r.nodes = {{"n1", "m1"}};
  placement_channel ch(c);
  ch.write(r, true);
  {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
    REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
    REQUIRE(js_DeleteStream(js, ("KV_" + placement_bucket(c)).c_str(), nullptr, nullptr) ==
            NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  r.nodes = {{"n1", "m2"}};
  try {
    ch.update(r);
    FAIL("the update went through");
  } catch (const placement_refused& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("No responders") != std::string::npos);
  }
}
