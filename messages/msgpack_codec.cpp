#include "messages/msgpack_codec.hpp"

#include <cstdint>
#include <new>

#include "messages/msgpack_reader.hpp"
#include "messages/msgpack_writer.hpp"

namespace shoal {

namespace {

using detail::msgpack_writer;

void pack(msgpack_writer& w, const Value& v) {
  // Dispatch on the variant index: a plain switch keeps the recursion simple.
  switch (v.v.index()) {
    case 0:
      w.nil();
      break;
    case 1:
      w.boolean(v.as_bool());
      break;
    case 2:
      w.int64(v.as_int());
      break;
    case 3:
      w.float64(v.as_double());
      break;
    case 4:
      w.str(v.as_string());
      break;
    case 5: {
      const auto& xs = v.as_f64_vector();
      w.array(xs.size());
      w.float64s(xs.data(), xs.size());
      break;
    }
    case 8:
      if (const auto& bytes = (*v.as_shared_list())->encoded; !bytes.empty()) {
        w.write(bytes.data(), bytes.size());
        break;
      }
      [[fallthrough]];
    case 6: {
      const auto& xs = v.as_list();
      w.array(xs.size());
      for (const auto& x : xs) pack(w, x);
      break;
    }
    case 7: {
      const auto& m = v.as_map();
      w.map(m.size());
      for (const auto& [k, x] : m) {
        w.str(k);
        pack(w, x);
      }
      break;
    }
  }
}

// Sizes of the forms msgpack-cxx's packer chooses (the smallest for each length or value).
std::size_t int_size(std::int64_t x) {
  if (x >= 0) {
    return x < 128 ? 1 : x < 256 ? 2 : x < 65536 ? 3 : x <= 0xffffffffLL ? 5 : 9;
  }
  return x >= -32 ? 1 : x >= -128 ? 2 : x >= -32768 ? 3 : x >= -2147483648LL ? 5 : 9;
}
std::size_t str_size(std::size_t n) { return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5); }
std::size_t container_size(std::size_t n) { return n < 16 ? 1 : n < 65536 ? 3 : 5; }

}  // namespace

std::size_t msgpack_size(const Value& v) {
  switch (v.v.index()) {
    case 0:
    case 1:
      return 1;
    case 2:
      return int_size(v.as_int());
    case 3:
      return 9;
    case 4:
      return str_size(v.as_string().size());
    case 5:
      return container_size(v.as_f64_vector().size()) + 9 * v.as_f64_vector().size();
    case 8:
      if (const auto& bytes = (*v.as_shared_list())->encoded; !bytes.empty()) return bytes.size();
      [[fallthrough]];
    case 6: {
      std::size_t n = container_size(v.as_list().size());
      for (const auto& x : v.as_list()) n += msgpack_size(x);
      return n;
    }
    case 7: {
      std::size_t n = container_size(v.as_map().size());
      for (const auto& [k, x] : v.as_map()) n += str_size(k.size()) + msgpack_size(x);
      return n;
    }
  }
  return 0;
}

void append_msgpack(std::string& out, const Value& v) {
  msgpack_writer w(out);
  pack(w, v);
}

std::string to_msgpack(const Value& v) {
  std::string out;
  out.reserve(msgpack_size(v));
  append_msgpack(out, v);
  return out;
}

Value from_msgpack(std::string_view bytes, const decode_limits& limits) {
  const std::size_t n = bytes.size();
  if (n > limits.max_bytes)
    throw decode_error(error_kind::oversized, "",
                       "frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                           std::to_string(limits.max_bytes));
  if (n == 0) throw decode_error(error_kind::truncated, "", "empty frame");
  try {
    return read_msgpack(bytes, limits);
  } catch (const std::bad_alloc&) {
    throw decode_error(error_kind::oversized, "", "frame too large to decode");
  }
}

}  // namespace shoal
