#pragma once
// Internal to messages/*.cpp (it pulls in <msgpack.hpp>; public headers must not).
// msgpack_writer appends MessagePack to a std::string through msgpack-cxx's packer.
// append_msgpack and the record encoders both emit through it — the reason a record's
// bytes equal to_msgpack of the equivalent Value map.

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shoal::detail {

class msgpack_writer {
 public:
  explicit msgpack_writer(std::string& out) : out_(out), packer_(*this) {}
  msgpack_writer(const msgpack_writer&) = delete;  // the packer refers to this object
  msgpack_writer& operator=(const msgpack_writer&) = delete;

  std::string& out() { return out_; }

  void nil() { packer_.pack_nil(); }
  void boolean(bool b) { b ? packer_.pack_true() : packer_.pack_false(); }
  void int64(std::int64_t x) { packer_.pack_int64(x); }  // smallest int form
  // Always float64 (0xcb + 8 big-endian bytes), written by hand: msgpack-cxx 4.1's
  // pack_double emits integral doubles (1.0, -0.0) as ints, which would turn a double
  // into an int on the way back and make f64 vectors decode as lists.
  void float64(double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    char buf[9];
    buf[0] = static_cast<char>(0xcb);
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
    write(buf, sizeof buf);
  }
  // n float64s, as float64() writes each, in one append.
  void float64s(const double* xs, std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + 9 * n);
    char* p = out_.data() + at;
    for (std::size_t k = 0; k < n; ++k, p += 9) {
      std::uint64_t bits;
      std::memcpy(&bits, &xs[k], sizeof bits);
      p[0] = static_cast<char>(0xcb);
      bits = big_endian(bits);
      std::memcpy(p + 1, &bits, sizeof bits);
    }
  }
  void str(std::string_view s) {
    const auto n = length(s.size());
    packer_.pack_str(n);
    packer_.pack_str_body(s.data(), n);
  }
  void array(std::size_t n) { packer_.pack_array(length(n)); }
  void map(std::size_t n) { packer_.pack_map(length(n)); }

  // The stream interface the packer writes through.
  void write(const char* data, std::size_t size) { out_.append(data, size); }

 private:
  // x's bytes in big-endian order (one bswap on x86, not eight shifts and stores).
  static std::uint64_t big_endian(std::uint64_t x) {
    if constexpr (std::endian::native == std::endian::little) {
      return __builtin_bswap64(x);
    } else {
      return x;
    }
  }
  // MessagePack lengths are 32-bit; a longer string or container cannot be described.
  static std::uint32_t length(std::size_t n) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("shoal: value too long for MessagePack");
    return static_cast<std::uint32_t>(n);
  }

  std::string& out_;
  msgpack::packer<msgpack_writer> packer_;
};

}  // namespace shoal::detail
