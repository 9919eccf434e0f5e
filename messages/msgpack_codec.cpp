#include "messages/msgpack_codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <new>

#include "messages/field_path.hpp"
#include "messages/limits_check.hpp"
#include "messages/msgpack_writer.hpp"
#include "messages/shared_lists.hpp"

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

// Strings stay pointing into the caller's buffer while we convert; they are copied once,
// into the Value, instead of twice (zone, then Value).
bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

const char* msgpack_type_name(msgpack::type::object_type t) {
  switch (t) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "bool";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return "int";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "float";
    case msgpack::type::STR:
      return "str";
    case msgpack::type::BIN:
      return "bin";
    case msgpack::type::ARRAY:
      return "array";
    case msgpack::type::MAP:
      return "map";
    case msgpack::type::EXT:
      return "ext";
  }
  return "unknown";
}

bool is_float(const msgpack::object& o) {
  return o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64;
}

class converter {
 public:
  explicit converter(const decode_limits& limits) : limits_(limits) {}

  // depth: nesting level of the containers around o (0 for the top-level object).
  Value convert(const msgpack::object& o, const field_path& at, std::size_t depth) const {
    switch (o.type) {
      case msgpack::type::NIL:
        return Value{};
      case msgpack::type::BOOLEAN:
        return Value(o.via.boolean);
      case msgpack::type::POSITIVE_INTEGER:
        if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw decode_error(error_kind::out_of_range, at.str(),
                             "integer " + std::to_string(o.via.u64) + " exceeds int64");
        return Value(static_cast<std::int64_t>(o.via.u64));
      case msgpack::type::NEGATIVE_INTEGER:
        return Value(static_cast<std::int64_t>(o.via.i64));
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        return Value(finite(o.via.f64, at));
      case msgpack::type::STR:
        return Value(std::string(o.via.str.ptr, o.via.str.size));
      case msgpack::type::ARRAY:
        return array(o.via.array, at, depth + 1);
      case msgpack::type::MAP:
        return map(o.via.map, at, depth + 1);
      case msgpack::type::BIN:
      case msgpack::type::EXT:
        break;
    }
    throw decode_error(error_kind::wrong_type, at.str(),
                       std::string(msgpack_type_name(o.type)) + " is not a shoal value type");
  }

 private:
  double finite(double x, const field_path& at) const { return require_finite(x, limits_, at); }
  void check_depth(std::size_t depth, const field_path& at) const {
    // msgpack-cxx already enforces the limit while parsing (through unpack_limit); checking
    // again bounds this converter's recursion whatever that parser version does.
    require_depth(depth, limits_, at);
  }

  Value array(const msgpack::object_array& a, const field_path& at, std::size_t depth) const {
    check_depth(depth, at);
    bool all_floats = a.size > 0;
    for (std::uint32_t i = 0; i < a.size && all_floats; ++i) all_floats = is_float(a.ptr[i]);
    if (all_floats) {
      f64_vector xs;
      xs.reserve(a.size);
      for (std::uint32_t i = 0; i < a.size; ++i)
        xs.push_back(finite(a.ptr[i].via.f64, at.index(i)));
      return Value(std::move(xs));
    }
    // A list of names (a scan's assets): the shared list of recent frames with the same names.
    bool all_strings = a.size > 0;
    for (std::uint32_t i = 0; i < a.size && all_strings; ++i)
      all_strings = a.ptr[i].type == msgpack::type::STR;
    if (all_strings) {
      return Value(intern_name_list(a.size, [&](std::size_t i) {
        return std::string_view(a.ptr[i].via.str.ptr, a.ptr[i].via.str.size);
      }));
    }
    value_list xs;
    xs.reserve(a.size);
    for (std::uint32_t i = 0; i < a.size; ++i) xs.push_back(convert(a.ptr[i], at.index(i), depth));
    return Value(std::move(xs));
  }

  Value map(const msgpack::object_map& m, const field_path& at, std::size_t depth) const {
    check_depth(depth, at);
    value_map out;
    for (std::uint32_t i = 0; i < m.size; ++i) {
      const auto& kv = m.ptr[i];
      if (kv.key.type != msgpack::type::STR)
        throw decode_error(
            error_kind::wrong_type, at.str(),
            std::string("map key must be a str, got ") + msgpack_type_name(kv.key.type));
      const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
      const field_path child = at.key(key);
      const std::size_t before = out.size();
      // Canonical frames list keys in order, so the end() hint makes insertion O(1).
      out.emplace_hint(out.end(), std::string(key), convert(kv.val, child, depth));
      if (out.size() == before)
        throw decode_error(error_kind::duplicate_key, child.str(), "key appears twice");
    }
    return Value(std::move(out));
  }

  const decode_limits& limits_;
};

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

  // Every array element takes at least one byte and every map entry two, so no honest
  // length can exceed these. Bounding them keeps a 5-byte header that claims 4 billion
  // elements from making msgpack-cxx allocate for them; such a header is a cut-off frame.
  const msgpack::unpack_limit limit(/*array=*/n, /*map=*/n / 2, /*str=*/n, /*bin=*/n,
                                    /*ext=*/n, /*depth=*/limits.max_depth);
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), n, offset, &reference_input, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    throw decode_error(error_kind::truncated, "", "frame ends inside the object");
  } catch (const msgpack::depth_size_overflow&) {
    throw decode_error(error_kind::too_deep, "",
                       "nesting exceeds " + std::to_string(limits.max_depth) + " levels");
  } catch (const msgpack::size_overflow&) {
    throw decode_error(error_kind::truncated, "", "a length exceeds the bytes in the frame");
  } catch (const msgpack::unpack_error&) {
    throw decode_error(error_kind::not_msgpack, "", "bytes are not MessagePack");
  } catch (const std::bad_alloc&) {
    throw decode_error(error_kind::oversized, "", "frame too large to decode");
  }
  if (offset != n)
    throw decode_error(error_kind::trailing_bytes, "",
                       std::to_string(n - offset) + " bytes after the end of the object");
  return converter(limits).convert(handle.get(), field_path(), 0);
}

}  // namespace shoal
