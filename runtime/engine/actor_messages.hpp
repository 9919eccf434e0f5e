#pragma once
// The messages node and source actors exchange. Private to runtime/engine: it pulls in CAF,
// which kernels and the graph must never include.
//
//   (event_atom, port, seq, ts, value_ptr, rcv)     a raw source event for a stream node
//   (output_atom, port, seq, bucket, value_ptr, rcv) an upstream node's output (closes bucket)
//   (watermark_atom, port, ts, rcv)                 nothing more at or before ts on that port
//   (rcv: when the source received the input that led here, for stage_latency; 0 for none)
//   (tick_atom)                                     a source's pacing timer
//   (checkpoint_atom) -> std::string                the node's state, for the state db
//   (window_atom) -> std::string                    the node's window (msgpack), for admin
//   (pause_atom, bool paused) -> bool               hold inputs (bounded) / resume in order
//   (subscribe_atom, actor, port) -> bool           a strategy submitted at runtime joins
//   (unsubscribe_atom, actor) -> bool               a removed node stops receiving
//   (names_atom, std::vector<std::string>) -> bool  the names this node publishes under
//   (restart_atom, bool fresh) -> bool              back from FAILED (fresh: cold window)
//   (warm_done_atom, std::vector<uint32_t>) -> bool  a warm start is over
//   (renew_atom, bool has_state, std::string state) -> bool
//                                                   start again as spawned, from this state (or
//                                                   none), before any input came

#include <caf/all.hpp>

#include "messages/value.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::value_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<std::string>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<std::uint32_t>)

namespace shoal {

using event_atom = caf::atom_constant<caf::atom("event")>;
using output_atom = caf::atom_constant<caf::atom("output")>;
using watermark_atom = caf::atom_constant<caf::atom("watermark")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using checkpoint_atom = caf::atom_constant<caf::atom("checkpt")>;
using window_atom = caf::atom_constant<caf::atom("window")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using names_atom = caf::atom_constant<caf::atom("names")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using warm_done_atom = caf::atom_constant<caf::atom("warmdone")>;
using renew_atom = caf::atom_constant<caf::atom("renew")>;

// A downstream subscription: the actor and the port index its input arrives on.
struct subscriber {
  caf::actor actor;
  std::uint32_t port = 0;
};

}  // namespace shoal
