// msgpack_reader against the decoder it replaced: msgpack-cxx's parser, whose object tree a
// converter turned into a Value (kept below as the reference). On frames valid, random and
// mutated, both must give the same Value (the same alternatives, the same bytes) or the same
// error kind at the same field: the reader changes how fast frames decode, nothing else.

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <msgpack.hpp>
#include <optional>
#include <random>
#include <string>

#include "messages/field_path.hpp"
#include "messages/limits_check.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/shared_lists.hpp"
#include "tests/unit/decode_outcome.hpp"
#include "tests/unit/frame_mutation.hpp"

using namespace shoal;
using namespace std::string_literals;

namespace {

// ---- the reference: msgpack_codec.cpp's decoder before msgpack_reader ----

bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

const char* type_name(msgpack::type::object_type t) {
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

Value convert(const msgpack::object& o, const field_path& at, const decode_limits& limits) {
  switch (o.type) {
    case msgpack::type::NIL:
      return Value{};
    case msgpack::type::BOOLEAN:
      return Value(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw decode_error(error_kind::out_of_range, at.str(), "exceeds int64");
      return Value(static_cast<std::int64_t>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER:
      return Value(static_cast<std::int64_t>(o.via.i64));
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Value(require_finite(o.via.f64, limits, at));
    case msgpack::type::STR:
      return Value(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::ARRAY: {
      const auto& a = o.via.array;
      bool all_floats = a.size > 0;
      for (std::uint32_t i = 0; i < a.size && all_floats; ++i) all_floats = is_float(a.ptr[i]);
      if (all_floats) {
        f64_vector xs;
        for (std::uint32_t i = 0; i < a.size; ++i)
          xs.push_back(require_finite(a.ptr[i].via.f64, limits, at.index(i)));
        return Value(std::move(xs));
      }
      bool all_strings = a.size > 0;
      for (std::uint32_t i = 0; i < a.size && all_strings; ++i)
        all_strings = a.ptr[i].type == msgpack::type::STR;
      if (all_strings) {
        return Value(intern_name_list(a.size, [&](std::size_t i) {
          return std::string_view(a.ptr[i].via.str.ptr, a.ptr[i].via.str.size);
        }));
      }
      value_list xs;
      for (std::uint32_t i = 0; i < a.size; ++i)
        xs.push_back(convert(a.ptr[i], at.index(i), limits));
      return Value(std::move(xs));
    }
    case msgpack::type::MAP: {
      value_map out;
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          throw decode_error(error_kind::wrong_type, at.str(),
                             std::string("map key must be a str, got ") + type_name(kv.key.type));
        const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
        const field_path child = at.key(key);
        const std::size_t before = out.size();
        out.emplace_hint(out.end(), std::string(key), convert(kv.val, child, limits));
        if (out.size() == before)
          throw decode_error(error_kind::duplicate_key, child.str(), "twice");
      }
      return Value(std::move(out));
    }
    case msgpack::type::BIN:
    case msgpack::type::EXT:
      break;
  }
  throw decode_error(error_kind::wrong_type, at.str(),
                     std::string(type_name(o.type)) + " is not a shoal value type");
}

Value reference_decode(std::string_view bytes, const decode_limits& limits) {
  const std::size_t n = bytes.size();
  if (n > limits.max_bytes) throw decode_error(error_kind::oversized, "", "oversized");
  if (n == 0) throw decode_error(error_kind::truncated, "", "empty frame");
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, limits.max_depth);
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), n, offset, &reference_input, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    throw decode_error(error_kind::truncated, "", "cut short");
  } catch (const msgpack::depth_size_overflow&) {
    throw decode_error(error_kind::too_deep, "", "too deep");
  } catch (const msgpack::size_overflow&) {
    throw decode_error(error_kind::truncated, "", "a length exceeds the frame");
  } catch (const msgpack::unpack_error&) {
    throw decode_error(error_kind::not_msgpack, "", "not msgpack");
  }
  if (offset != n) throw decode_error(error_kind::trailing_bytes, "", "trailing");
  return convert(handle.get(), field_path(), limits);
}

// ---- the comparison ----

// Equal, alternative by alternative (a list of strings stays a list of strings, a float
// array an f64_vector), and in the same bytes.
bool same(const Value& a, const Value& b) {
  if (a.v.index() != b.v.index()) return false;
  if (a.is_list() && b.is_list()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i])) return false;
    return true;
  }
  if (a.is_map() && b.is_map()) {
    const auto& x = a.as_map();
    const auto& y = b.as_map();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
      if (i->first != j->first || !same(i->second, j->second)) return false;
    return true;
  }
  return to_msgpack(a) == to_msgpack(b);
}

// Both decoders agree on bytes; counts how many frames decoded.
int agree(std::string_view bytes, const decode_limits& limits = {}) {
  const auto want = testing::outcome_of([&] { return reference_decode(bytes, limits); });
  const auto got = testing::outcome_of([&] { return from_msgpack(bytes, limits); });
  INFO("frame of " << bytes.size() << " bytes");
  return testing::agrees(got, want, [](const Value& g, const Value& w) { CHECK(same(g, w)); });
}

Value scan_like(int assets) {
  value_list names;
  f64_vector prices;
  for (int i = 0; i < assets; ++i) {
    names.emplace_back("A" + std::to_string(100 + i));
    prices.push_back(100.0 + i * 0.25);
  }
  return Value(value_map{
      {"source", "feed"},
      {"payload", value_map{{"assets", names}, {"prices", prices}, {"t", std::int64_t{1700}}}},
      {"mixed", value_list{1, -2, 2.5, "s", Value{}, true, value_list{}, value_map{}}},
      {"big", std::numeric_limits<std::int64_t>::min()}});
}

}  // namespace

TEST_CASE("msgpack_reader decodes every form as msgpack-cxx did", "[msgpack]") {
  // Each form at its boundaries, written by hand where the canonical encoder never writes it
  // (signed forms of non-negative numbers, str8 of a short string, array16 of two items...).
  const std::string frames[] = {"\x00"s,
                                "\x7f"s,
                                "\xe0"s,
                                "\xff"s,
                                "\xc0"s,
                                "\xc2"s,
                                "\xc3"s,
                                "\xcc\xff"s,
                                "\xcd\xff\xff"s,
                                "\xce\xff\xff\xff\xff"s,
                                "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"s,
                                "\xcf\x80\x00\x00\x00\x00\x00\x00\x00"s,
                                "\xd0\x05"s,
                                "\xd0\x80"s,
                                "\xd1\x80\x00"s,
                                "\xd2\xff\xff\xff\xfe"s,
                                "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"s,
                                "\xd3\x00\x00\x00\x00\x00\x00\x00\x07"s,
                                "\xca\x3f\x80\x00\x00"s,
                                "\xca\x7f\x80\x00\x00"s,
                                "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"s,
                                "\xa0"s,
                                "\xa3"
                                "abc"s,
                                "\xd9\x03"
                                "abc"s,
                                "\xda\x00\x03"
                                "abc"s,
                                "\xdb\x00\x00\x00\x03"
                                "abc"s,
                                "\x92\xa1x\xa1y"s,
                                "\xdc\x00\x02\xa1x\xa1y"s,
                                "\xdd\x00\x00\x00\x02\xa1x\xa1y"s,
                                "\x92\xa1x\xd9\x01y"s,
                                "\x92\xca\x3f\x80\x00\x00\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"s,
                                "\x92\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\x01"s,
                                "\x90"s,
                                "\x80"s,
                                "\xde\x00\x01\xa1k\x01"s,
                                "\xdf\x00\x00\x00\x01\xa1k\x01"s,
                                "\x82\xa1k\x01\xa1k\x02"s,
                                "\x81\x01\x02"s,
                                "\x81\xc4\x00\x02"s,
                                "\xc4\x01x"s,
                                "\xc5\x00\x01x"s,
                                "\xc6\x00\x00\x00\x01x"s,
                                "\xc7\x01\x05x"s,
                                "\xc8\x00\x01\x05x"s,
                                "\xc9\x00\x00\x00\x01\x05x"s,
                                "\xd4\x01\x00"s,
                                "\xd5\x01\x00\x00"s,
                                "\xd6\x01\x00\x00\x00\x00"s,
                                "\xd8\x01" + std::string(16, 'x'),
                                "\xd7\x01" + std::string(7, 'x'),
                                "\xdb\xff\xff\xff\xff"s,
                                "\xdd\xff\xff\xff\xff"s,
                                "\xdf\xff\xff\xff\xff"s,
                                "\xdc\x00\x09\x01"s,
                                "\xc1"s,
                                "\x92\x01\xc1"s,
                                "\x01\x02"s,
                                ""s};
  int decoded = 0;
  for (const auto& f : frames) decoded += agree(f);
  CHECK(decoded > 30);
  decode_limits shallow;
  shallow.max_depth = 2;
  for (const auto& f :
       {"\x91\x91\x01"s, "\x91\x91\x91\x01"s, "\x91\x91\x90"s, "\x91\x81\xa1k\x90"s})
    agree(f, shallow);
  decode_limits any;
  any.allow_non_finite = true;
  agree("\x92\xca\x7f\xc0\x00\x00\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"s, any);
  agree("\x92\xca\x7f\xc0\x00\x00\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"s);
}

TEST_CASE("msgpack_reader finds a scan's names in the shared list cache", "[msgpack]") {
  // The second decode of the same names is the same list object, whether the frame wrote the
  // names in their canonical forms (found by its bytes) or not (found by the names).
  const std::string canonical = to_msgpack(scan_like(48));
  const Value a = from_msgpack(canonical);
  const Value b = from_msgpack(canonical);
  const auto* la = a.find("payload")->find("assets")->as_shared_list();
  const auto* lb = b.find("payload")->find("assets")->as_shared_list();
  REQUIRE(la);
  REQUIRE(lb);
  CHECK(la->get() == lb->get());
  const Value c = from_msgpack("\x92\xd9\x01x\xa1y"s);
  const Value d = from_msgpack("\x92\xa1x\xa1y"s);
  REQUIRE(c.as_shared_list());
  CHECK(c.as_shared_list()->get() == d.as_shared_list()->get());
}

TEST_CASE("msgpack_reader agrees with msgpack-cxx on random and mutated frames",
          "[msgpack][fuzz]") {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  const unsigned char headers[] = {0x80, 0x81, 0x82, 0x8f, 0x90, 0x91, 0x92, 0x9f, 0xa0,
                                   0xa1, 0xa2, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7,
                                   0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xdc,
                                   0xdd, 0xde, 0xdf, 0x00, 0x01, 0x6b, 0x7f, 0xff, 0xe0};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof headers - 1);
  int decoded = 0;
  for (int c = 0; c < 4000; ++c) {
    std::string bytes(static_cast<std::size_t>(byte(rng) % 48), '\0');
    for (auto& b : bytes) b = static_cast<char>(c % 2 ? headers[pick(rng)] : byte(rng));
    decoded += agree(bytes);
  }
  const std::string valid = to_msgpack(scan_like(20));
  for (int c = 0; c < 4000; ++c) {
    decoded += agree(testing::mutated(valid, 1 + byte(rng) % 3, rng, [&] {
      return static_cast<char>(c % 2 ? headers[pick(rng)] : byte(rng));
    }));
  }
  for (std::size_t n = 0; n <= valid.size(); ++n) decoded += agree(valid.substr(0, n));
  decode_limits shallow;
  shallow.max_depth = 2;
  decoded += agree(valid, shallow);
  CHECK(decoded > 500);  // the comparison covered frames that decode, not only errors
}
