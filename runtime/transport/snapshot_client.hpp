#pragma once
// snapshot_client: a late joiner's side of another engine's snapshot endpoint (design §6): the
// last N outputs of a topic, before following it live. One client for the zmq source (format
// "output", `catch_up`) and `shoal tail --catch-up`.

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "runtime/transport/curve_keys.hpp"

namespace shoal {

class snapshot_error : public std::runtime_error {
 public:
  // no_answer: nothing came back within the timeout (the REQ socket is then unusable: stop
  // asking); otherwise the endpoint refused, with its reason, or answered nonsense.
  snapshot_error(const std::string& what, bool no_answer)
      : std::runtime_error(what), no_answer_(no_answer) {}
  bool no_answer() const { return no_answer_; }

 private:
  bool no_answer_;
};

class snapshot_client {
 public:
  // curve: CURVE to an engine with [engine] curve (curve_keys.hpp); throws curve_error.
  snapshot_client(zmq::context_t& ctx, const std::string& endpoint,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5),
                  const curve_client& curve = {});

  // The last n outputs of topic, oldest first, each the msgpack bytes of an Output as the
  // endpoint's engine published it. Throws snapshot_error.
  std::vector<std::string> last_outputs(const std::string& topic, std::size_t n);

 private:
  std::string endpoint_;
  zmq::socket_t req_;
};

}  // namespace shoal
