#pragma once
// Meta "kinds": {kind: {version, code_hash, behaviour}} of every kind a graph runs, so a manifest
// says which code made a data dir's outputs (the binary reading it later may be another).
// Written by the engine when it starts and by `shoal build`.
//
// behaviour: the code hash whose behaviour the dir's results of that kind have. It is the code
// hash itself, until a build proves a later code (same kind_version) computes the same outputs
// (build mode's behavioural check, docs/build_mode.md): then the results stay valid and keep the
// older behaviour id, so build mode's action keys (which include it) still match.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "runtime/graph/plan.hpp"

namespace shoal {

struct recorded_kind {
  std::int64_t version = 0;
  std::string code_hash, behaviour;
};

// What a meta "kinds" record says; empty for none or one that cannot be read.
std::map<std::string, recorded_kind> read_kinds_meta(const std::optional<std::string>& bytes);

// The record for g. A kind's behaviour id: `behaviour`'s entry when it has one, else the
// previous record's when the code hash and version are the same, else the code hash.
std::string kinds_meta(const plan& g, const std::map<std::string, recorded_kind>& previous = {},
                       const std::map<std::string, std::string>& behaviour = {});

}  // namespace shoal
