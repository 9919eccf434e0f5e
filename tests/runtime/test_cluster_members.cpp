// A member's heartbeat against a real nats-server: what it says it published counts as read by
// the active process only two writes after it was written (member_heartbeat::listed_published),
// the gate a placed process's checkpoint waits behind before it goes to the cluster.
#include <catch2/catch.hpp>

#include "nats_server.hpp"
#include "runtime/cluster/cluster_members.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::nats_server;

namespace {

// Engine e1 placed on two processes: each member writes its record every 200 ms and lists the
// others as often.
cluster_decl placed_engine(const nats_server& server) {
  cluster_decl c = shoal::testing::one_server_cluster(server, "e1");
  c.members = 2;
  c.heartbeat_ttl_ns = 600'000'000;
  return c;
}

}  // namespace

TEST_CASE("what a member says it published counts as listed two writes later", "[cluster]") {
  nats_server server;
  const auto up = connect(server);  // once the server answers; reads the member's key
  const cluster_decl c = placed_engine(server);
  member_heartbeat hb(
      c, cluster_member{"vm-0000000a", "standby", "tcp://127.0.0.1:1", "", "g", {}, {}});
  using seqs = std::map<std::string, std::uint64_t>;
  hb.set_published({{"n1", 5}});
  REQUIRE(shoal::test::wait_for([&] { return hb.listed_published() == seqs{{"n1", 5}}; }));
  // The member's key is the bucket's only one, so its revisions count its writes.
  auto record = [&] { return up->kv_get(members_bucket(c), "e1.vm-0000000a"); };
  std::uint64_t last_five = record()->revision, first_nine = 0, second_nine = 0;
  hb.set_published({{"n1", 9}});
  // Once the cluster holds two records saying 9, the active process may not have read them yet:
  // 5 until one more write (200 ms here).
  REQUIRE(shoal::test::wait_for([&] {
    const auto e = record();
    if (!e) return false;
    if (e->value.find("\"n1\":9") == std::string::npos) {
      last_five = e->revision;
      return false;
    }
    if (first_nine == 0) first_nine = e->revision;
    second_nine = e->revision;
    return second_nine > first_nine;
  }));
  const seqs listed = hb.listed_published();
  if (first_nine == last_five + 1 && second_nine == first_nine + 1) {
    CHECK(listed == seqs{{"n1", 5}});
  } else {
    WARN("this test was held up past a write of the member: not checked");
  }
  std::uint64_t seen = 5;
  REQUIRE(shoal::test::wait_for([&] {
    const auto now = hb.listed_published();
    seen = now.count("n1") ? now.at("n1") : 0;
    return seen != 5;
  }));
  CHECK(seen == 9);
}

TEST_CASE("what another member said it published outlives its key", "[cluster]") {
  nats_server server;
  const auto up = connect(server);
  const cluster_decl c = placed_engine(server);
  using seen_map = std::map<std::string, std::map<std::string, std::uint64_t>>;
  member_heartbeat standby(
      c, cluster_member{"vm-0000000b", "standby", "tcp://127.0.0.1:2", "", "g", {}, {}});
  {
    member_heartbeat active(
        c, cluster_member{"vm-0000000a", "active", "tcp://127.0.0.1:1", "", "g", {}, {}});
    active.set_published({{"n1", 7}, {"n2", 3}});
    REQUIRE(shoal::test::wait_for([&] {
      const seen_map s = standby.published_seen();
      return s.count("vm-0000000a") && s.at("vm-0000000a").count("n1") &&
             s.at("vm-0000000a").at("n1") == 7;
    }));
    active.set_published({{"n1", 4}});  // never lower: a seq published stays published
    REQUIRE(shoal::test::wait_for([&] {  // the standby listed the record saying 4
      for (const auto& m : standby.members())
        if (m.instance == "vm-0000000a" && m.published.count("n1") && m.published.at("n1") == 4)
          return true;
      return false;
    }));
    CHECK(standby.seen_as("active") == std::set<std::string>{"vm-0000000a"});
  }  // gone: its key deleted
  REQUIRE(shoal::test::wait_for([&] {
    for (const auto& m : standby.members())
      if (m.instance == "vm-0000000a") return false;
    return true;
  }));
  const seen_map s = standby.published_seen();
  REQUIRE(s.count("vm-0000000a"));
  CHECK(s.at("vm-0000000a") == std::map<std::string, std::uint64_t>{{"n1", 7}, {"n2", 3}});
}

TEST_CASE("a member's journal position and lag reach the other members", "[cluster]") {
  nats_server server;
  const auto up = connect(server);
  const cluster_decl c = placed_engine(server);
  member_heartbeat active(
      c, cluster_member{"vm-0000000a", "active", "tcp://127.0.0.1:1", "", "g", {}, {}});
  member_heartbeat standby(
      c, cluster_member{"vm-0000000b", "standby", "tcp://127.0.0.1:2", "", "g", {}, {}});
  standby.set_journal(4200, 1500);
  active.set_journal(5000, 0);
  auto listed = [&](const member_heartbeat& reader, const std::string& instance) {
    for (const auto& m : reader.members())
      if (m.instance == instance) return std::make_pair(m.journal, m.lag_ms);
    return std::make_pair(std::uint64_t{0}, std::int64_t{-1});
  };
  CHECK(shoal::test::wait_for(
      [&] {
        return listed(active, "vm-0000000b") ==
               std::make_pair(std::uint64_t{4200}, std::int64_t{1500});
      },
      std::chrono::seconds(10)));
  CHECK(shoal::test::wait_for(
      [&] {
        return listed(standby, "vm-0000000a") ==
               std::make_pair(std::uint64_t{5000}, std::int64_t{0});
      },
      std::chrono::seconds(10)));
}

TEST_CASE("a member said it published a node while listed, 0 for one that never fired",
          "[cluster]") {
  cluster_member a{"vm-a", "standby", "tcp://127.0.0.1:1", "", "g", {{"n1", 7}, {"n2", 0}}, {}};
  cluster_member b{"vm-b", "active", "tcp://127.0.0.1:2", "", "g", {{"n3", 4}}, {}};
  const std::vector<cluster_member> live{a, b};
  CHECK(said_published(live, "vm-a", "n1") == std::optional<std::uint64_t>{7});
  // 0: it publishes n2, which made no output yet: every output of it is vm-a's.
  CHECK(said_published(live, "vm-a", "n2") == std::optional<std::uint64_t>{0});
  CHECK_FALSE(said_published(live, "vm-a", "n3"));  // another member's
  CHECK(said_published(live, "vm-b", "n3") == std::optional<std::uint64_t>{4});
  CHECK_FALSE(said_published(live, "vm-c", "n1"));  // not listed: gone
  CHECK_FALSE(said_published({}, "vm-a", "n1"));
}
