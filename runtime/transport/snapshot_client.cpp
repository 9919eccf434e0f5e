#include "runtime/transport/snapshot_client.hpp"

#include "messages/msgpack_codec.hpp"
#include "runtime/transport/snapshot_request.hpp"

namespace shoal {

snapshot_client::snapshot_client(zmq::context_t& ctx, const std::string& endpoint,
                                 std::chrono::milliseconds timeout, const curve_client& curve)
    : endpoint_(endpoint), req_(ctx, zmq::socket_type::req) {
  req_.set(zmq::sockopt::linger, 0);
  apply_curve_client(req_, curve);
  req_.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
  req_.connect(endpoint);
}

std::vector<std::string> snapshot_client::last_outputs(const std::string& topic, std::size_t n) {
  req_.send(zmq::buffer(encode_snapshot_request({topic, n})), zmq::send_flags::none);
  zmq::message_t reply;
  if (!req_.recv(reply))
    throw snapshot_error("no answer from snapshot endpoint " + endpoint_, true);
  // Another engine's store answers: up to n whole outputs, so a large frame is expected.
  decode_limits limits;
  limits.max_bytes = std::size_t{1} << 30;
  const Value r = from_msgpack(reply.to_string_view(), limits);
  const Value* ok = r.find("ok");
  if (!ok || !ok->is_bool() || !ok->as_bool()) {
    const Value* err = r.find("error");
    throw snapshot_error(
        "snapshot of " + topic + ": " + (err && err->is_string() ? err->as_string() : "refused"),
        false);
  }
  const Value* outs = r.find("outputs");
  if (!outs || !outs->is_list())
    throw snapshot_error("snapshot of " + topic + ": reply without outputs", false);
  std::vector<std::string> out;
  out.reserve(outs->as_list().size());
  for (const auto& o : outs->as_list()) out.push_back(to_msgpack(o));
  return out;
}

}  // namespace shoal
