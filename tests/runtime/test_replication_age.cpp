// replication_age: the age of the oldest journal record the cluster lacks, from the commits and
// acknowledgements the replicator feeds it (times passed in): zero when nothing lacks, the commit
// time of the oldest lacking record otherwise, never younger than that, and bounded in memory.
#include "runtime/cluster/replication_age.hpp"

#include <catch2/catch.hpp>

using namespace shoal;
using namespace std::chrono_literals;

namespace {
const replication_age::time_point t0{};
}

TEST_CASE("replication age: nothing pending is no lag") {
  replication_age a;
  CHECK(a.age(t0 + 10s) == 0ms);
  a.committed(10, t0);
  a.replicated(10);
  CHECK(a.age(t0 + 10s) == 0ms);
}

TEST_CASE("replication age counts from the commit of the oldest record the cluster lacks") {
  replication_age a;
  a.committed(100, t0);
  a.committed(200, t0 + 1s);
  a.committed(300, t0 + 2s);
  CHECK(a.age(t0 + 3s) == 3000ms);
  a.replicated(50);  // records 51..100 still lack: committed at t0
  CHECK(a.age(t0 + 3s) == 3000ms);
  a.replicated(100);  // the oldest lacking is 101, committed at t0 + 1 s
  CHECK(a.age(t0 + 3s) == 2000ms);
  a.replicated(250);
  CHECK(a.age(t0 + 3s) == 1000ms);
  a.replicated(300);
  CHECK(a.age(t0 + 3s) == 0ms);
  // A commit of records the cluster already holds (a replay of old news) adds no lag.
  a.committed(300, t0 + 4s);
  CHECK(a.age(t0 + 5s) == 0ms);
}

TEST_CASE("replication age merges close commits and errs long never short") {
  replication_age a;
  a.committed(10, t0);
  a.committed(20, t0 + 10ms);  // within the resolution: merged into the first, keeping t0
  a.committed(30, t0 + 100ms);
  a.replicated(10);
  // Records 11..20 landed at t0 + 10 ms; their entry says t0: at most `resolution` too old.
  CHECK(a.age(t0 + 1s) == 1000ms);
  a.replicated(20);
  CHECK(a.age(t0 + 1s) == 900ms);
}

TEST_CASE("replication age stays bounded through a long outage") {
  // Commits 100 ms apart, three times as many as it keeps entries for: the later ones share
  // the last entry, whose time is the oldest of them.
  replication_age a;
  const std::uint64_t n = 3 * replication_age::max_entries;
  for (std::uint64_t k = 1; k <= n; ++k) a.committed(k, t0 + k * 100ms);
  const auto end = t0 + (n + 1) * 100ms;
  CHECK(a.age(end) == std::chrono::duration_cast<std::chrono::milliseconds>(end - (t0 + 100ms)));
  // Past the last commit with an entry of its own: the rest share one, timed at its first.
  a.replicated(replication_age::max_entries);
  const auto kept = t0 + replication_age::max_entries * 100ms;
  CHECK(a.age(end) == std::chrono::duration_cast<std::chrono::milliseconds>(end - kept));
  a.replicated(n);
  CHECK(a.age(end) == 0ms);
}
