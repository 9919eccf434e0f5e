#pragma once
// Meta "kinds": {kind: {version, code_hash}} of every kind a graph runs, so a manifest says which
// code made a data dir's outputs (the binary reading it later may be another). Written by the
// engine when it starts and by `shoal build`.

#include <string>

#include "runtime/graph/plan.hpp"

namespace shoal {

std::string kinds_meta(const plan& g);

}  // namespace shoal
