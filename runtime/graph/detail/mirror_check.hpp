#pragma once
// Planning through `[engine] mirrors`: a mirror's plan is checked against the plan of the
// engine it mirrors, which may itself be a mirror. Private to runtime/graph.

#include <string>
#include <vector>

#include "runtime/graph/plan.hpp"

namespace shoal::detail {

// Config paths whose planning led to the one being planned, outermost first.
using mirror_chain = std::vector<std::string>;

// build_plan, for a config reached through `chain`.
plan build_plan_in_chain(const config& cfg, const mirror_chain& chain);

// A mirror may read the primary's topics but never publish on them; a mirror loop (a config
// that mirrors itself, directly or through others) is an error. Throws config_error.
void check_mirror(const config& cfg, const plan& p, const mirror_chain& chain);

}  // namespace shoal::detail
