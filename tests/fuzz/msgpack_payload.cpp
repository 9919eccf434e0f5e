// libFuzzer target: the msgpack decoder (from_msgpack under decode_limits) and the domain
// payload validators, as an input frame's payload meets them at ingest.
//
// Checked beyond "no crash, no UB, no leak": decoding throws nothing but decode_error; a
// decoded Value re-encodes to bytes that decode again and re-encode identically (canonical
// encoding, which replay parity relies on); validators throw nothing but decode_error.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"

namespace {

constexpr std::string_view schemas[] = {"scan", "ob", "posture", "esof", "acb", "mc", "any"};

void check_canonical(const shoal::Value& v, const shoal::decode_limits& limits) {
  const std::string once = shoal::to_msgpack(v);
  shoal::decode_limits relaxed = limits;  // re-encoding may widen float32s past the frame limit
  relaxed.max_bytes = std::numeric_limits<std::size_t>::max();
  if (shoal::to_msgpack(shoal::from_msgpack(once, relaxed)) != once) {
    __builtin_trap();
  }
}

void check_readers(const shoal::Value& v) {
  shoal::asset_series series;
  if (!shoal::read_asset_series(v, series) && (!series.assets.empty() || !series.values.empty())) {
    __builtin_trap();
  }
  if (series.assets.size() != series.values.size()) {
    __builtin_trap();
  }
  std::map<std::string, double, std::less<>> by_name;
  shoal::read_asset_values(v, by_name);
}

void check(std::string_view frame, const shoal::decode_limits& limits) {
  shoal::Value v;
  try {
    v = shoal::from_msgpack(frame, limits);
  } catch (const shoal::decode_error&) {
    return;
  }
  check_canonical(v, limits);
  for (std::string_view schema : schemas) {
    try {
      shoal::validate_payload(schema, v);
    } catch (const shoal::decode_error&) {
    }
  }
  check_readers(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  check(frame, shoal::decode_limits{});
  // The journal reader's limits: non-finite numbers allowed, a shallower depth exercised too.
  shoal::decode_limits loose;
  loose.allow_non_finite = true;
  loose.max_depth = 4;
  check(frame, loose);
  return 0;
}
