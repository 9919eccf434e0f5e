#pragma once
// MessagePack codec for Value: the one wire encoding of shoal (ZeroMQ frames, the LMDB
// journal and the outputs store all hold these bytes). Encoding is canonical, so equal
// Values always give equal bytes — replay compares outputs byte for byte.
//
// Encoding:
//   nil → nil; bool → true/false; int64 → the smallest MessagePack int form (as the
//   msgpack-cxx packer chooses it; non-negative values use the uint forms);
//   double → always float64, integral values included (msgpack-cxx 4.1's own pack_double
//   would write 1.0 as the int 1, so it is not used); string → str;
//   f64_vector → array of float64; list → array; map → map with keys in sorted order
//   (value_map is a sorted std::map).
//
// Decoding (from_msgpack) trusts nothing and throws decode_error:
//   - frame longer than max_bytes → oversized; empty or cut short → truncated;
//   - bytes after one complete object → trailing_bytes;
//   - bytes that are not MessagePack (e.g. 0xc1) → not_msgpack;
//   - bin and ext objects (valid MessagePack, but no Value holds them) → wrong_type;
//   - containers nested deeper than max_depth (a top-level map or array is depth 1)
//     → too_deep;
//   - a map key that is not a str → wrong_type; a key twice → duplicate_key;
//   - an unsigned int above INT64_MAX → out_of_range;
//   - NaN/±inf (unless allow_non_finite) → non_finite.
//   The error's field() is the path of the offending item ("payload.prices[3]"), or empty
//   when the frame as a whole is at fault.
//   float32 is widened to double. Array rule: a NON-EMPTY array whose elements are all
//   floats (float32/float64) decodes to f64_vector; any other array, including the empty
//   array and arrays mixing ints and floats, decodes to value_list. Hence a list of
//   doubles comes back as an f64_vector and an empty f64_vector as an empty list; the
//   bytes re-encode identically either way, which is what replay relies on.

#include <cstddef>
#include <string>
#include <string_view>

#include "messages/decode_error.hpp"
#include "messages/value.hpp"

namespace shoal {

struct decode_limits {
  std::size_t max_bytes = 1 << 20;  // whole frame
  std::size_t max_depth = 32;       // container nesting
  bool allow_non_finite = false;    // accept NaN/±inf doubles
};

// For what shoal wrote itself (its store: outputs, checkpoints, windows), not for input from
// outside: 1 GiB, nesting 64.
inline decode_limits stored_data_limits() {
  decode_limits l;
  l.max_bytes = std::size_t{1} << 30;
  l.max_depth = 64;
  return l;
}

// For an output shoal stored or put in the cluster's stream: as stored_data_limits, a
// non-finite double included (a kernel may emit one; it must not keep its output unread).
inline decode_limits stored_output_limits() {
  decode_limits l = stored_data_limits();
  l.allow_non_finite = true;
  return l;
}

// Appends the canonical encoding of v to out (lets callers build a frame in one buffer).
// Throws std::length_error for a string/array/map longer than MessagePack can describe
// (2^32 − 1), which no real payload reaches.
void append_msgpack(std::string& out, const Value& v);
// The exact size of v's canonical encoding, without encoding it: encoders reserve it so a
// frame is written into one allocation, not grown append by append.
std::size_t msgpack_size(const Value& v);
std::string to_msgpack(const Value& v);

// Decodes exactly one object filling all of bytes; see the rules above.
Value from_msgpack(std::string_view bytes, const decode_limits& limits = {});

}  // namespace shoal
