// [engine] workers and idle_spin_us reach CAF's scheduler: the keys and types CAF 0.17 reads
// (a wrong name or type is only printed to stderr by actor_system_config::set), and an actor
// system made from them has that many workers.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/engine/engine_scheduler.hpp"

using namespace shoal;

namespace {

constexpr const char* polls_key = "work-stealing.moderate-poll-attempts";

}  // namespace

TEST_CASE("scheduler config: workers and idle spin reach CAF", "[engine]") {
  engine_decl e;
  e.workers = 1;
  e.idle_spin_us = 200;
  caf::actor_system_config cfg;
  set_scheduler_config(e, cfg);
  CHECK(caf::get_or(cfg, "scheduler.max-threads", std::size_t{0}) == 1);
  CHECK(caf::get_or(cfg, polls_key, std::size_t{0}) == 200 * 1000 / 5);  // 5 ns a poll, alone
  CHECK(caf::get_or(cfg, "work-stealing.moderate-sleep-duration", caf::timespan{1}) ==
        caf::timespan{0});
  caf::actor_system sys{cfg};
  CHECK(sys.scheduler().num_workers() == 1);

  e.workers = 3;
  CHECK(idle_spin_polls(e) == 200 * 1000 / 8);
}

TEST_CASE("scheduler config: no idle spin leaves CAF's polls as they are", "[engine]") {
  engine_decl e;  // the defaults: 2 workers, no spin
  caf::actor_system_config cfg;
  set_scheduler_config(e, cfg);
  const caf::actor_system_config untouched;
  CHECK(caf::get_or(cfg, polls_key, std::size_t{12345}) ==
        caf::get_or(untouched, polls_key, std::size_t{12345}));
  caf::actor_system sys{cfg};
  CHECK(sys.scheduler().num_workers() == 2);
}
