#pragma once
// engine_scheduler: how the node actors' threads run, from [engine] (workers, idle_spin_us), set
// on the CAF 0.17 actor system's config before the system is made.

#include <cstddef>

#include "runtime/graph/engine_decl.hpp"

namespace caf {
class actor_system_config;
}

namespace shoal {

// CAF 0.17 counts an idle worker's polls, not time: a poll of its queue (with, now and then, a
// steal from another's) took about 8 ns with two workers on the dev VM, 5 with one.
std::size_t idle_spin_polls(const engine_decl& e);

void set_scheduler_config(const engine_decl& e, caf::actor_system_config& cfg);

}  // namespace shoal
