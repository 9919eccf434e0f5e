#include "runtime/engine/engine_scheduler.hpp"

#include <caf/actor_system_config.hpp>

namespace shoal {

std::size_t idle_spin_polls(const engine_decl& e) {
  const std::int64_t poll_ns = e.workers == 1 ? 5 : 8;
  return static_cast<std::size_t>(e.idle_spin_us * 1000 / poll_ns);
}

void set_scheduler_config(const engine_decl& e, caf::actor_system_config& cfg) {
  // Sources run on threads of their own: the scheduler's threads are the node actors' alone.
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(e.workers));
  // An idle worker polls, then (by CAF 0.17's default) sleeps 50 us between polls for 25 ms
  // before it waits on a condition variable. An input arriving at a few per millisecond found
  // workers in those sleeps, each hop of the live path waiting for one to end. Without them the
  // worker spins briefly, then waits where an enqueue wakes it at once.
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{0});
  // [engine] idle_spin_us: it polls that long instead (docs/operations.md, "Latency").
  if (e.idle_spin_us > 0) cfg.set("work-stealing.moderate-poll-attempts", idle_spin_polls(e));
}

}  // namespace shoal
