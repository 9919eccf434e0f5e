#include "actors/core/params.hpp"
#include "actors/core/duration.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace shoal {

std::int64_t param_reader::get_int(const std::string& key, std::int64_t def, std::int64_t min,
                                   std::int64_t max) {
  std::int64_t v = def;
  if (const Value* p = params_.count(key) ? &params_.at(key) : nullptr) {
    if (!p->is_int())
      throw param_error(key, "must be an integer, got " + std::string(p->type_name()));
    v = p->as_int();
  }
  if (v < min || v > max)
    throw param_error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                               "], got " + std::to_string(v));
  normalized_[key] = Value(v);
  return v;
}

double param_reader::get_double(const std::string& key, double def, double min, double max) {
  double v = def;
  if (auto it = params_.find(key); it != params_.end()) {
    if (!it->second.is_number())
      throw param_error(key, "must be a number, got " + std::string(it->second.type_name()));
    v = it->second.as_number();
  }
  if (!std::isfinite(v) || v < min || v > max)
    throw param_error(key, "must be a finite number in [" + std::to_string(min) + ", " +
                               std::to_string(max) + "]");
  normalized_[key] = Value(v);
  return v;
}

std::int64_t param_reader::get_duration(const std::string& key, std::int64_t def_ns) {
  std::int64_t v = def_ns;
  if (auto it = params_.find(key); it != params_.end()) {
    if (it->second.is_int()) {
      v = it->second.as_int();
    } else if (it->second.is_string()) {
      try {
        v = parse_duration_ns(it->second.as_string());
      } catch (const std::exception& e) {
        throw param_error(key, e.what());
      }
    } else {
      throw param_error(key, "must be a duration such as \"60s\"");
    }
  }
  if (v <= 0) throw param_error(key, "must be a positive duration");
  normalized_[key] = Value(v);
  return v;
}

std::vector<std::int64_t> param_reader::get_int_list(const std::string& key,
                                                     std::vector<std::int64_t> def,
                                                     std::int64_t min, std::int64_t max,
                                                     std::size_t max_len) {
  std::vector<std::int64_t> out = std::move(def);
  if (auto it = params_.find(key); it != params_.end()) {
    if (!it->second.is_list() || it->second.as_list().empty())
      throw param_error(key, "must be a non-empty list of integers");
    out.clear();
    for (const auto& x : it->second.as_list()) {
      if (!x.is_int()) throw param_error(key, "must be a list of integers");
      out.push_back(x.as_int());
    }
  }
  if (out.size() > max_len)
    throw param_error(key, "has at most " + std::to_string(max_len) + " entries");
  value_list norm;
  for (auto x : out) {
    if (x < min || x > max)
      throw param_error(
          key, "entries must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    norm.emplace_back(x);
  }
  normalized_[key] = Value(std::move(norm));
  return out;
}

value_map param_reader::finish() const {
  for (const auto& [k, v] : params_)
    if (!normalized_.count(k)) throw param_error(k, "unknown parameter");
  return normalized_;
}

}  // namespace shoal
