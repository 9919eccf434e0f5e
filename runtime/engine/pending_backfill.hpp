#pragma once
// pending_backfill: what a placed process's store still lacks of the nodes handed to it, kept in
// its dir's meta (`handed_backfill`) until the backfill made it (engine_handover.cpp): the
// outputs of `nodes` through journal record `through`. A backfill stopped midway also says where
// (`from`, the last journal record its nodes took) and the state each node it computes had there
// (`states`, NodeID → a runner's checkpoint), so the next start goes on from there; `from` 0
// starts at the journal's start.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace shoal {

struct pending_backfill {
  std::uint64_t through = 0;
  std::set<std::string> nodes;
  std::uint64_t from = 0;
  std::map<std::string, std::string> states;

  // Also `more` through `to`. A node new to it needs its outputs from the journal's start, and
  // the states a stop left hold none of it: the backfill starts over.
  void add(const std::set<std::string>& more, std::uint64_t to);
};

// The meta's bytes; none for none (empty, no nodes, `through` 0). A position shoal would not have
// written (past `through`, without a state, a state that is not bytes) reads as the journal's
// start. Throws decode_error for bytes that are not MessagePack.
std::optional<pending_backfill> decode_backfill(std::string_view bytes);
std::string encode_backfill(const pending_backfill& b);

}  // namespace shoal
