#pragma once
// decode_error: the one exception type every decoder in messages/ throws for bad input.
// Callers (ingest, transport) count and quarantine rejects by kind(), so the kind is an
// enum rather than something parsed out of what(); field() names where the problem is
// (`payload.prices[3]`, `assets`, `bid_qty[0]`) so an operator can find it in the frame.

#include <stdexcept>
#include <string>

namespace shoal {

enum class error_kind {
  not_msgpack,      // bytes are not MessagePack at all
  truncated,        // frame ends before the object does
  trailing_bytes,   // bytes left over after one complete object
  oversized,        // frame larger than the decode limit
  too_deep,         // containers nested deeper than the decode limit
  wrong_type,       // valid MessagePack, but not the type the field needs
  missing_field,    // a required map key is absent
  non_finite,       // NaN or ±inf where a finite number is required
  negative,         // a number below its lower bound (prices > 0, quantities >= 0, seq >= 0)
  length_mismatch,  // arrays that must pair up element-wise have different lengths
  out_of_range,     // a number or name outside its allowed set or interval
  duplicate_key,    // a map key (or asset name) appears twice
};

// Stable lower-case name of a kind ("not_msgpack", ...), used as a metrics label.
const char* to_string(error_kind kind);

class decode_error : public std::runtime_error {
 public:
  decode_error(error_kind kind, std::string field, std::string message);

  error_kind kind() const { return kind_; }
  // Path of the offending field; empty when the problem is the frame as a whole.
  const std::string& field() const { return field_; }

 private:
  error_kind kind_;
  std::string field_;
};

}  // namespace shoal
