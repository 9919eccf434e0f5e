#pragma once
// node_inbox: where ingest hands a stream's input, without knowing how the node runs. In the
// engine it is the node's actor (node_host's actor_inbox); a test may hand it to anything.
// Port 0: a stream node has one input, its source. received_ns: when its source received the
// input (stage_latency), 0 for none.

#include <cstdint>
#include <memory>

#include "messages/value.hpp"

namespace shoal {

class node_inbox {
 public:
  virtual ~node_inbox() = default;
  virtual void event(std::uint64_t seq, std::int64_t ts, value_ptr payload,
                     std::int64_t received_ns = 0) = 0;
  virtual void watermark(std::int64_t ts, std::int64_t received_ns = 0) = 0;
};

}  // namespace shoal
