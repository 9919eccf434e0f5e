#include "messages/msgpack_reader.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "messages/field_path.hpp"
#include "messages/limits_check.hpp"
#include "messages/shared_lists.hpp"

namespace shoal {

namespace {

enum class item_tag : std::uint8_t {
  nil,
  boolean,
  uint,
  sint,
  f32,
  f64,
  str,
  bin,
  ext,
  array,
  map
};

// One item's first byte(s): what it is, and its value (scalars) or length (the rest; for ext
// the data bytes, without the type byte).
struct item_header {
  item_tag t = item_tag::nil;
  std::uint64_t n = 0;  // uint value, or length
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
};

const char* tag_name(item_tag t) {  // as msgpack_codec named msgpack-cxx's types
  switch (t) {
    case item_tag::nil:
      return "nil";
    case item_tag::boolean:
      return "bool";
    case item_tag::uint:
    case item_tag::sint:
      return "int";
    case item_tag::f32:
    case item_tag::f64:
      return "float";
    case item_tag::str:
      return "str";
    case item_tag::bin:
      return "bin";
    case item_tag::ext:
      return "ext";
    case item_tag::array:
      return "array";
    case item_tag::map:
      return "map";
  }
  return "unknown";
}

[[noreturn]] void cut_short() {
  throw decode_error(error_kind::truncated, "", "frame ends inside the object");
}

class frame_reader {
 public:
  frame_reader(std::string_view bytes, const decode_limits& limits)
      : p_(bytes.data()), n_(bytes.size()), limits_(limits) {}

  // Pass 1: the item at pos is whole and well formed; returns where it ends. `level` is the
  // number of containers around it.
  std::size_t check(std::size_t pos, std::size_t level) const {
    if (const std::size_t end = scalar_end(pos)) {
      return end;
    }
    const item_header h = head(pos);
    switch (h.t) {
      case item_tag::str:
      case item_tag::bin:
        return body(pos, h.n);
      case item_tag::ext:
        return body(pos, h.n + 1);
      case item_tag::array:
      case item_tag::map: {
        // Every array element takes at least one byte and every map entry two, so no honest
        // length can exceed these; such a header (4 billion elements) is a cut-off frame.
        if (h.n > (h.t == item_tag::array ? n_ : n_ / 2)) {
          throw decode_error(error_kind::truncated, "", "a length exceeds the bytes in the frame");
        }
        if (level + 1 > limits_.max_depth) {
          throw decode_error(error_kind::too_deep, "",
                             "nesting exceeds " + std::to_string(limits_.max_depth) + " levels");
        }
        const std::uint64_t items = h.t == item_tag::array ? h.n : 2 * h.n;
        for (std::uint64_t k = 0; k < items; ++k) {
          const std::size_t end = scalar_end(pos);  // a scan's names and prices: no call
          pos = end ? end : check(pos, level + 1);
        }
        return pos;
      }
      default:
        return pos;
    }
  }

  // Pass 2, over a frame check() accepted: the Value of the item at pos, moving pos past it.
  Value read(std::size_t& pos, const field_path& at) {
    const std::size_t start = pos;
    const item_header h = head(pos);
    switch (h.t) {
      case item_tag::nil:
        return Value{};
      case item_tag::boolean:
        return Value(h.b);
      case item_tag::uint:
        if (h.n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          throw decode_error(error_kind::out_of_range, at.str(),
                             "integer " + std::to_string(h.n) + " exceeds int64");
        }
        return Value(static_cast<std::int64_t>(h.n));
      case item_tag::sint:
        return Value(h.i);
      case item_tag::f32:
      case item_tag::f64:
        return Value(require_finite(h.f, limits_, at));
      case item_tag::str: {
        std::string s(p_ + pos, h.n);
        pos += h.n;
        return Value(std::move(s));
      }
      case item_tag::array:
        return array(start, pos, static_cast<std::size_t>(h.n), at);
      case item_tag::map:
        return map(pos, static_cast<std::size_t>(h.n), at);
      case item_tag::bin:
      case item_tag::ext:
        break;
    }
    throw decode_error(error_kind::wrong_type, at.str(),
                       std::string(tag_name(h.t)) + " is not a shoal value type");
  }

  // read_event_fields, over a frame check() accepted.
  std::optional<event_fields> event() {
    constexpr auto int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (std::string_view(p_, std::min<std::size_t>(n_, event_frame_head.size())) !=
        event_frame_head) {
      return std::nullopt;
    }
    std::size_t pos = event_frame_head.size();
    event_fields f;
    f.payload = read(pos, field_path().key("payload"));  // as map() names it
    if (!key(pos, "seq")) {
      return std::nullopt;
    }
    item_header h = head(pos);
    if (h.t != item_tag::uint || h.n > int64_max) {
      return std::nullopt;
    }
    f.seq = h.n;
    if (!key(pos, "stream")) {
      return std::nullopt;
    }
    h = head(pos);
    if (h.t != item_tag::str) {
      return std::nullopt;
    }
    f.stream.assign(p_ + pos, h.n);
    pos += h.n;
    if (!key(pos, "ts")) {
      return std::nullopt;
    }
    h = head(pos);
    if (h.t == item_tag::uint && h.n <= int64_max) {
      f.ts = static_cast<std::int64_t>(h.n);
    } else if (h.t == item_tag::sint) {
      f.ts = h.i;
    } else {
      return std::nullopt;
    }
    return f;
  }

 private:
  // The big-endian number of `bytes` (1, 2, 4 or 8) bytes at p: one load and one byte swap.
  static std::uint64_t be(const char* p, int bytes) {
    std::uint64_t x = 0;
    std::memcpy(&x, p, static_cast<std::size_t>(bytes));
    if constexpr (std::endian::native == std::endian::little) {
      x = __builtin_bswap64(x) >> (64 - 8 * bytes);
    }
    return x;
  }
  // The `bytes` after pos, moving pos past them.
  std::uint64_t take(std::size_t& pos, int bytes) const {
    if (static_cast<std::size_t>(bytes) > n_ - pos) {
      cut_short();
    }
    const std::uint64_t x = be(p_ + pos, bytes);
    pos += static_cast<std::size_t>(bytes);
    return x;
  }
  // Where the float64 or short string at pos ends (most items of a scan, checked without
  // decoding a header); 0 for any other item, or none, which check() then decodes.
  std::size_t scalar_end(std::size_t pos) const {
    if (pos >= n_) {
      return 0;
    }
    const auto b = static_cast<unsigned char>(p_[pos]);
    if (b == 0xcb) {
      return body(pos + 1, 8);
    }
    if (b >= 0xa0 && b <= 0xbf) {  // fixstr
      return body(pos + 1, b & 0x1fu);
    }
    return 0;
  }
  // Where a body of `len` bytes at pos ends, when the frame holds it.
  std::size_t body(std::size_t pos, std::uint64_t len) const {
    if (len > n_ - pos) {
      cut_short();
    }
    return pos + static_cast<std::size_t>(len);
  }

  item_header head(std::size_t& pos) const {
    if (pos >= n_) {
      cut_short();
    }
    const auto b = static_cast<unsigned char>(p_[pos++]);
    item_header h;
    if (b <= 0x7f) {
      h.t = item_tag::uint;
      h.n = b;
    } else if (b <= 0x8f) {
      h.t = item_tag::map;
      h.n = b & 0x0fu;
    } else if (b <= 0x9f) {
      h.t = item_tag::array;
      h.n = b & 0x0fu;
    } else if (b <= 0xbf) {
      h.t = item_tag::str;
      h.n = b & 0x1fu;
    } else if (b >= 0xe0) {
      h.t = item_tag::sint;
      h.i = static_cast<std::int8_t>(b);
    } else {
      switch (b) {
        case 0xc0:
          h.t = item_tag::nil;
          break;
        case 0xc2:
        case 0xc3:
          h.t = item_tag::boolean;
          h.b = b == 0xc3;
          break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
          h.t = item_tag::bin;
          h.n = take(pos, 1 << (b - 0xc4));
          break;
        case 0xc7:
        case 0xc8:
        case 0xc9:
          h.t = item_tag::ext;
          h.n = take(pos, 1 << (b - 0xc7));
          break;
        case 0xca: {
          h.t = item_tag::f32;
          const auto bits = static_cast<std::uint32_t>(take(pos, 4));
          float x;
          std::memcpy(&x, &bits, sizeof x);
          h.f = static_cast<double>(x);
          break;
        }
        case 0xcb: {
          h.t = item_tag::f64;
          const std::uint64_t bits = take(pos, 8);
          std::memcpy(&h.f, &bits, sizeof h.f);
          break;
        }
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf:
          h.t = item_tag::uint;
          h.n = take(pos, 1 << (b - 0xcc));
          break;
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: {
          const int bytes = 1 << (b - 0xd0);
          const std::uint64_t raw = take(pos, bytes);
          // Sign-extend from the encoded width.
          const int shift = 64 - 8 * bytes;
          h.i = shift == 0 ? static_cast<std::int64_t>(raw)
                           : static_cast<std::int64_t>(raw << shift) >> shift;
          // msgpack-cxx reads a signed form holding a non-negative number as an unsigned int.
          h.t = h.i < 0 ? item_tag::sint : item_tag::uint;
          h.n = static_cast<std::uint64_t>(h.i);
          break;
        }
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          h.t = item_tag::ext;
          h.n = std::uint64_t{1} << (b - 0xd4);
          break;
        case 0xd9:
        case 0xda:
        case 0xdb:
          h.t = item_tag::str;
          h.n = take(pos, 1 << (b - 0xd9));
          break;
        case 0xdc:
        case 0xdd:
          h.t = item_tag::array;
          h.n = take(pos, 2 << (b - 0xdc));
          break;
        case 0xde:
        case 0xdf:
          h.t = item_tag::map;
          h.n = take(pos, 2 << (b - 0xde));
          break;
        default:  // 0xc1, which MessagePack never uses
          throw decode_error(error_kind::not_msgpack, "", "bytes are not MessagePack");
      }
    }
    return h;
  }

  static bool is_float(unsigned char b) { return b == 0xca || b == 0xcb; }
  static bool is_str(unsigned char b) {
    return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
  }

  // The array whose header starts at `start` and whose items start at pos.
  Value array(std::size_t start, std::size_t& pos, std::size_t count, const field_path& at) {
    // A non-empty array of floats only is an f64_vector (msgpack_codec.hpp's array rule).
    bool all_floats = count > 0;
    std::size_t end = pos;
    for (std::size_t k = 0; k < count && all_floats; ++k) {
      const auto b = static_cast<unsigned char>(p_[end]);
      all_floats = is_float(b);
      end += b == 0xca ? 5 : 9;
    }
    if (all_floats) {
      f64_vector xs(count);
      for (std::size_t k = 0; k < count; ++k) {
        double x;
        if (p_[pos] == '\xcb') {  // float64, the form shoal writes: read in place
          const std::uint64_t bits = be(p_ + pos + 1, 8);
          std::memcpy(&x, &bits, sizeof x);
          pos += 9;
        } else {
          x = head(pos).f;
        }
        xs[k] = x;
        if (!limits_.allow_non_finite && !std::isfinite(x)) {
          require_finite(x, limits_, at.index(k));  // throws, naming the item
        }
      }
      return Value(std::move(xs));
    }
    // A list of names (a scan's assets): the shared list of recent frames with the same names.
    bool all_strings = count > 0;
    // Per thread, reused: decoding never re-enters itself on one thread.
    static thread_local std::vector<std::string_view> names;
    names.clear();
    end = pos;
    for (std::size_t k = 0; k < count && all_strings; ++k) {
      const auto b = static_cast<unsigned char>(p_[end]);
      all_strings = is_str(b);
      if (all_strings) {
        std::size_t len = b & 0x1fu;  // fixstr, the form of a short name
        if (b >= 0xd9) {
          len = static_cast<std::size_t>(head(end).n);
        } else {
          ++end;
        }
        names.emplace_back(p_ + end, len);
        end += len;
      }
    }
    if (all_strings) {
      // The array's own bytes, header included: equal to a cached list's encoding when the
      // names are that list's (the usual case: one compare instead of one per name).
      const std::string_view encoded(p_ + start, end - start);
      pos = end;
      return Value(
          intern_encoded_name_list(encoded, count, [&](std::size_t k) { return names[k]; }));
    }
    value_list xs;
    xs.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      xs.push_back(read(pos, at.index(k)));
    }
    return Value(std::move(xs));
  }

  Value map(std::size_t& pos, std::size_t count, const field_path& at) {
    value_map out;
    for (std::size_t k = 0; k < count; ++k) {
      const item_header key = head(pos);
      if (key.t != item_tag::str) {
        throw decode_error(error_kind::wrong_type, at.str(),
                           std::string("map key must be a str, got ") + tag_name(key.t));
      }
      const std::string_view name(p_ + pos, key.n);
      pos += key.n;
      const field_path child = at.key(name);
      const std::size_t before = out.size();
      // Canonical frames list keys in order, so the end() hint makes insertion O(1).
      out.emplace_hint(out.end(), std::string(name), read(pos, child));
      if (out.size() == before) {
        throw decode_error(error_kind::duplicate_key, child.str(), "key appears twice");
      }
    }
    return Value(std::move(out));
  }

  bool key(std::size_t& pos, std::string_view k) const {
    if (pos + 1 + k.size() > n_ || static_cast<unsigned char>(p_[pos]) != 0xa0 + k.size() ||
        std::string_view(p_ + pos + 1, k.size()) != k) {
      return false;
    }
    pos += 1 + k.size();
    return true;
  }

  const char* p_;
  std::size_t n_;
  const decode_limits& limits_;
};

}  // namespace

Value read_msgpack(std::string_view bytes, const decode_limits& limits) {
  frame_reader r(bytes, limits);
  const std::size_t end = r.check(0, 0);
  if (end != bytes.size()) {
    throw decode_error(error_kind::trailing_bytes, "",
                       std::to_string(bytes.size() - end) + " bytes after the end of the object");
  }
  std::size_t pos = 0;
  return r.read(pos, field_path());
}

std::optional<event_fields> read_event_fields(std::string_view bytes, const decode_limits& limits) {
  if (bytes.empty() || bytes.size() > limits.max_bytes) {
    return std::nullopt;
  }
  frame_reader r(bytes, limits);
  if (r.check(0, 0) != bytes.size()) {
    return std::nullopt;  // trailing bytes: the map decoder says so
  }
  return r.event();
}

}  // namespace shoal
