// libFuzzer target: the snapshot endpoint's request decoder (decode_snapshot_request), fed
// the request frame a ZeroMQ client sends to the ROUTER socket.
//
// Checked beyond "no crash, no UB, no leak": decoding throws nothing but decode_error; a
// decoded request asks for at most max_snapshot_outputs and survives encode → decode as is.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "messages/decode_error.hpp"
#include "runtime/transport/snapshot_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shoal::snapshot_request r;
  try {
    r = shoal::decode_snapshot_request(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const shoal::decode_error&) {
    return 0;
  }
  if (r.n > static_cast<std::size_t>(shoal::max_snapshot_outputs)) {
    __builtin_trap();
  }
  const shoal::snapshot_request again =
      shoal::decode_snapshot_request(shoal::encode_snapshot_request(r));
  if (again.topic != r.topic || again.n != r.n) {
    __builtin_trap();
  }
  return 0;
}
