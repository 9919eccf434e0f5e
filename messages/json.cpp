#include "messages/json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "messages/field_path.hpp"
#include "messages/limits_check.hpp"

namespace shoal {

nlohmann::json to_json(const Value& v) {
  switch (v.v.index()) {
    case 0:
      return nullptr;
    case 1:
      return v.as_bool();
    case 2:
      return v.as_int();
    case 3:
      return v.as_double();
    case 4:
      return v.as_string();
    case 5: {
      auto a = nlohmann::json::array();
      for (double x : v.as_f64_vector()) a.push_back(x);
      return a;
    }
    case 6:
    case 8: {
      auto a = nlohmann::json::array();
      for (const auto& x : v.as_list()) a.push_back(to_json(x));
      return a;
    }
    case 7: {
      auto o = nlohmann::json::object();
      for (const auto& [k, x] : v.as_map()) o.emplace(k, to_json(x));
      return o;
    }
  }
  return nullptr;
}

namespace {

class json_converter {
 public:
  explicit json_converter(const decode_limits& limits) : limits_(limits) {}

  // depth: nesting level of the containers around j (0 for the top-level value).
  Value convert(const nlohmann::json& j, const field_path& at, std::size_t depth) const {
    using t = nlohmann::json::value_t;
    switch (j.type()) {
      case t::null:
        return Value{};
      case t::boolean:
        return Value(j.get<bool>());
      case t::number_integer:
        return Value(j.get<std::int64_t>());
      case t::number_unsigned: {
        const auto u = j.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw decode_error(error_kind::out_of_range, at.str(),
                             "integer " + std::to_string(u) + " exceeds int64");
        return Value(static_cast<std::int64_t>(u));
      }
      case t::number_float:
        return Value(finite(j.get<double>(), at));
      case t::string:
        return Value(j.get<std::string>());
      case t::array:
        return array(j, at, depth + 1);
      case t::object:
        return object(j, at, depth + 1);
      case t::binary:
      case t::discarded:
        break;
    }
    throw decode_error(error_kind::wrong_type, at.str(),
                       std::string(j.type_name()) + " is not a shoal value type");
  }

 private:
  double finite(double x, const field_path& at) const { return require_finite(x, limits_, at); }
  void check_depth(std::size_t depth, const field_path& at) const {
    require_depth(depth, limits_, at);
  }

  Value array(const nlohmann::json& j, const field_path& at, std::size_t depth) const {
    check_depth(depth, at);
    const bool all_floats = !j.empty() && std::all_of(j.begin(), j.end(), [](const auto& x) {
      return x.is_number_float();
    });
    if (all_floats) {
      f64_vector xs;
      xs.reserve(j.size());
      std::size_t i = 0;
      for (const auto& x : j) xs.push_back(finite(x.get<double>(), at.index(i++)));
      return Value(std::move(xs));
    }
    value_list xs;
    xs.reserve(j.size());
    std::size_t i = 0;
    for (const auto& x : j) xs.push_back(convert(x, at.index(i++), depth));
    return Value(std::move(xs));
  }

  Value object(const nlohmann::json& j, const field_path& at, std::size_t depth) const {
    check_depth(depth, at);
    value_map m;
    // nlohmann's object is a sorted std::map, so keys are unique and arrive in order.
    for (const auto& [k, x] : j.items()) m.emplace_hint(m.end(), k, convert(x, at.key(k), depth));
    return Value(std::move(m));
  }

  const decode_limits& limits_;
};

}  // namespace

Value from_json(const nlohmann::json& j, const decode_limits& limits) {
  return json_converter(limits).convert(j, field_path(), 0);
}

nlohmann::json to_json(const Output& o) {
  return nlohmann::json{{"node", o.node},
                        {"id", o.id},
                        {"bucket", o.bucket},
                        {"seq", o.seq},
                        {"value", o.value ? to_json(*o.value) : nlohmann::json(nullptr)}};
}

}  // namespace shoal
