#include "runtime/transport/snapshot_request.hpp"

#include "messages/field_reader.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

std::string encode_snapshot_request(const snapshot_request& r) {
  return to_msgpack(
      Value(value_map{{"n", Value(static_cast<std::int64_t>(r.n))}, {"topic", Value(r.topic)}}));
}

snapshot_request decode_snapshot_request(std::string_view bytes) {
  const Value frame = from_msgpack(bytes);
  if (!frame.is_map()) {
    throw decode_error(error_kind::wrong_type, "",
                       std::string("a request is a map {topic, n}, got ") + frame.type_name());
  }
  const value_map& m = frame.as_map();
  snapshot_request r;
  r.topic = require_string(require_field(m, "topic"), "topic");
  const std::int64_t n = require_non_negative_int(require_field(m, "n"), "n");
  if (n > max_snapshot_outputs) {
    throw decode_error(
        error_kind::out_of_range, "n",
        "at most " + std::to_string(max_snapshot_outputs) + " outputs, got " + std::to_string(n));
  }
  r.n = static_cast<std::size_t>(n);
  return r;
}

}  // namespace shoal
