#include "messages/payloads.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "messages/decode_error.hpp"
#include "messages/field_path.hpp"
#include "messages/field_reader.hpp"

namespace shoal {

namespace {

const value_map& payload_map(const Value& payload) { return require_map(payload, "payload"); }

const Value& field(const value_map& m, std::string_view key) { return require_field(m, key); }

// One of a fixed set of names; out_of_range listing the allowed ones otherwise.
template <std::size_t N>
void require_one_of(const Value& v, std::string_view name,
                    const std::array<std::string_view, N>& allowed) {
  const std::string& s = require_string(v, name);
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  throw decode_error(error_kind::out_of_range, std::string(name),
                     "'" + printable(s) + "' is not one of " + list);
}

// A numeric array whose elements must be finite and > 0 (prices) or >= 0 (quantities).
std::size_t check_amounts(const Value& v, std::string_view name, bool zero_allowed) {
  return for_each_number(v, name, [&](std::size_t i, double x) {
    if (!std::isfinite(x))
      throw decode_error(error_kind::non_finite, element_field(name, i), "must be finite");
    if (zero_allowed ? x < 0 : x <= 0)
      throw decode_error(error_kind::negative, element_field(name, i),
                         zero_allowed ? "must be >= 0" : "must be > 0");
  });
}

void check_same_length(std::size_t n, std::size_t expected, std::string_view name,
                       std::string_view other) {
  if (n == expected) return;
  throw decode_error(
      error_kind::length_mismatch, std::string(name),
      std::to_string(n) + " entries for " + std::to_string(expected) + " in " + std::string(other));
}

// assets: a list of unique strings. Returns the count.
std::size_t check_assets(const Value& v) {
  if (!v.is_list()) throw_wrong_type("assets", "a list of strings", v);
  const auto& xs = v.as_list();
  std::vector<std::pair<std::string_view, std::size_t>> names;
  names.reserve(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i)
    names.emplace_back(require_string(xs[i], element_field("assets", i)), i);
  std::sort(names.begin(), names.end());
  // Report the later occurrence: with names sorted by (name, index) that is the second one.
  for (std::size_t i = 1; i < names.size(); ++i)
    if (names[i].first == names[i - 1].first)
      throw decode_error(error_kind::duplicate_key, element_field("assets", names[i].second),
                         "asset '" + printable(names[i].first) + "' appears twice");
  return xs.size();
}

double check_number_in(const Value& v, std::string_view name, double lo, double hi) {
  const double x = require_finite_number(v, name);
  if (x < lo || x > hi)
    throw decode_error(
        error_kind::out_of_range, std::string(name),
        std::to_string(x) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

}  // namespace

void validate_scan(const Value& payload) {
  const value_map& m = payload_map(payload);
  require_int(field(m, "scan_number"), "scan_number");
  const std::size_t n_assets = check_assets(field(m, "assets"));
  const std::size_t n_prices = check_amounts(field(m, "prices"), "prices", false);
  check_same_length(n_prices, n_assets, "prices", "assets");
}

void validate_ob(const Value& payload) {
  const value_map& m = payload_map(payload);
  require_string(field(m, "asset"), "asset");
  const std::size_t bid_px = check_amounts(field(m, "bid_px"), "bid_px", false);
  const std::size_t bid_qty = check_amounts(field(m, "bid_qty"), "bid_qty", true);
  const std::size_t ask_px = check_amounts(field(m, "ask_px"), "ask_px", false);
  const std::size_t ask_qty = check_amounts(field(m, "ask_qty"), "ask_qty", true);
  check_same_length(bid_qty, bid_px, "bid_qty", "bid_px");
  check_same_length(ask_qty, ask_px, "ask_qty", "ask_px");
}

void validate_posture(const Value& payload) {
  static constexpr std::array<std::string_view, 4> postures{"APEX", "STALKER", "TURTLE",
                                                            "HIBERNATE"};
  require_one_of(field(payload_map(payload), "posture"), "posture", postures);
}

void validate_esof(const Value& payload) {
  const value_map& m = payload_map(payload);
  check_number_in(field(m, "score"), "score", -1.0, 1.0);
  require_string(field(m, "label"), "label");
}

void validate_acb(const Value& payload) {
  const value_map& m = payload_map(payload);
  require_finite_number(field(m, "boost"), "boost");
  require_finite_number(field(m, "beta"), "beta");
  const std::int64_t stress = require_int(field(m, "stress"), "stress");
  if (stress < 0 || stress > 3)
    throw decode_error(error_kind::out_of_range, "stress",
                       std::to_string(stress) + " is outside 0..3");
}

void validate_mc(const Value& payload) {
  static constexpr std::array<std::string_view, 3> statuses{"GREEN", "ORANGE", "RED"};
  const value_map& m = payload_map(payload);
  require_one_of(field(m, "status"), "status", statuses);
  require_finite_number(field(m, "scale"), "scale");
}

namespace {
using validator = void (*)(const Value&);

// nullptr for "any": known, but checks nothing.
const validator* find_validator(std::string_view schema) {
  static constexpr std::pair<std::string_view, validator> table[] = {
      {"scan", &validate_scan}, {"ob", &validate_ob},   {"posture", &validate_posture},
      {"esof", &validate_esof}, {"acb", &validate_acb}, {"mc", &validate_mc},
      {"any", nullptr}};
  for (const auto& [name, fn] : table)
    if (name == schema) return &fn;
  return nullptr;
}
}  // namespace

bool is_known_schema(std::string_view schema) { return find_validator(schema) != nullptr; }

void validate_payload(std::string_view schema, const Value& payload) {
  const validator* fn = find_validator(schema);
  if (!fn) throw std::invalid_argument("unknown payload schema '" + printable(schema) + "'");
  if (*fn) (*fn)(payload);
}

bool read_asset_series(const Value& v, asset_series& out) {
  out.assets.clear();
  out.values.clear();
  const Value* assets = v.find("assets");
  if (!assets || !assets->is_list()) return false;
  const Value* numbers = v.find("prices");
  const bool is_scan = numbers != nullptr;
  if (!is_scan) numbers = v.find("values");
  if (!numbers || !is_numeric_array(*numbers)) return false;

  const auto& names = assets->as_list();
  for (const auto& name : names)
    if (!name.is_string()) return false;
  const std::size_t n =
      numbers->is_f64_vector() ? numbers->as_f64_vector().size() : numbers->as_list().size();
  if (n != names.size()) return false;

  out.assets.reserve(n);
  out.values.reserve(n);
  for_each_number(*numbers, "", [&](std::size_t i, double x) {
    if (!std::isfinite(x) || (is_scan && x <= 0)) return;
    out.assets.push_back(names[i].as_string());
    out.values.push_back(x);
  });
  return true;
}

bool read_asset_values(const Value& v, std::map<std::string, double, std::less<>>& out) {
  out.clear();
  asset_series series;
  if (!read_asset_series(v, series)) return false;
  for (std::size_t i = 0; i < series.assets.size(); ++i)
    out.emplace(std::move(series.assets[i]), series.values[i]);
  return true;
}

Value make_asset_values(const std::map<std::string, double, std::less<>>& values) {
  value_list assets;
  f64_vector numbers;
  assets.reserve(values.size());
  numbers.reserve(values.size());
  for (const auto& [name, x] : values) {
    assets.emplace_back(name);
    numbers.push_back(x);
  }
  value_map m;
  m.emplace("assets", std::move(assets));
  m.emplace("values", std::move(numbers));
  return Value(std::move(m));
}

}  // namespace shoal
