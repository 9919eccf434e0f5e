// libFuzzer target: the journal record decoder (decode_journal_record) and the three record
// decoders it is built on (decode_event, decode_watermark, decode_output), fed the bytes of
// one LMDB journal or outputs value, or of one ZeroMQ output frame.
//
// Checked beyond "no crash, no UB, no leak": decoders throw nothing but decode_error; a decoded
// record re-encodes to bytes that decode again and re-encode identically.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/decode_error.hpp"
#include "messages/journal_record.hpp"
#include "messages/records.hpp"

namespace {

template <class Decode, class Encode>
void check(std::string_view bytes, Decode decode, Encode encode) {
  std::string once;
  try {
    once = encode(decode(bytes));
  } catch (const shoal::decode_error&) {
    return;
  }
  if (encode(decode(once)) != once) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(
      bytes, [](std::string_view b) { return shoal::decode_journal_record(b); },
      [](const shoal::journal_record& r) { return shoal::encode_journal_record(r); });
  check(
      bytes, [](std::string_view b) { return shoal::decode_event(b); },
      [](const shoal::Event& e) { return shoal::encode_event(e); });
  check(
      bytes, [](std::string_view b) { return shoal::decode_watermark(b); },
      [](const shoal::Watermark& w) { return shoal::encode_watermark(w); });
  check(
      bytes, [](std::string_view b) { return shoal::decode_output(b); },
      [](const shoal::Output& o) { return shoal::encode_output(o); });
  return 0;
}
