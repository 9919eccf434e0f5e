#pragma once
// Reads one TOML table of a config: typed getters that fail with "file:line: key: problem",
// and a finish() that reports the keys nobody asked for. Private to runtime/graph.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <toml.hpp>
#include <vector>

#include "actors/core/duration.hpp"
#include "actors/core/params.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/detail/toml_file.hpp"

namespace shoal::detail {

class table_reader {
 public:
  // `prefix` is the key path of the table ("engine", "node.ret"), empty for the root.
  table_reader(const toml::value& t, const toml_file& doc, std::string prefix)
      : t_(t), doc_(doc), prefix_(std::move(prefix)) {}

  const toml_file& doc() const { return doc_; }
  source_loc loc() const { return doc_.loc(t_); }
  source_loc loc(const std::string& key) const {
    return has(key) ? doc_.loc(t_.as_table().at(key)) : loc();
  }
  std::string path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }
  bool has(const std::string& key) const { return t_.as_table().count(key) != 0; }
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw config_error(loc(key), path(key), problem);
  }

  const toml::value* get(const std::string& key) {
    used_.insert(key);
    auto& t = t_.as_table();
    auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }
  std::optional<std::string> str(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "must be a string");
    return v->as_string().str;
  }
  std::string required_str(const std::string& key) {
    auto s = str(key);
    if (!s) fail(key, "is required");
    if (s->empty()) fail(key, "must not be empty");
    return *s;
  }
  std::optional<std::int64_t> integer(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) fail(key, "must be an integer");
    return v->as_integer();
  }
  std::optional<double> number(const std::string& key) {  // an integer or a float
    const toml::value* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_integer()) return static_cast<double>(v->as_integer());
    if (!v->is_floating()) fail(key, "must be a number");
    return v->as_floating();
  }
  std::optional<bool> boolean(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key, "must be true or false");
    return v->as_boolean();
  }
  std::optional<std::int64_t> duration(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "must be a duration string such as \"1s\"");
    try {
      return parse_duration_ns(v->as_string().str);
    } catch (const std::exception& e) {
      fail(key, e.what());
    }
  }
  std::vector<std::string> str_list(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return {};
    if (v->is_string()) return {v->as_string().str};
    if (!v->is_array()) fail(key, "must be a list of strings");
    std::vector<std::string> out;
    for (const auto& x : v->as_array()) {
      if (!x.is_string()) fail(key, "must be a list of strings");
      out.push_back(x.as_string().str);
    }
    return out;
  }
  // An array of tables ([[key]]), or nullptr when absent.
  const toml::array* tables(const std::string& key) {
    const toml::value* v = get(key);
    if (!v) return nullptr;
    if (!v->is_array()) fail(key, "must be an array of tables ([[" + key + "]])");
    for (const auto& x : v->as_array())
      if (!x.is_table()) fail(key, "must be an array of tables ([[" + key + "]])");
    return &v->as_array();
  }
  // The keys asked for so far, present or not.
  const std::set<std::string>& asked() const { return used_; }
  // Rejects keys nobody asked for, in name order so the message is stable.
  void finish() const {
    std::vector<std::string> keys;
    for (const auto& [k, _] : t_.as_table()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys)
      if (!used_.count(k)) fail(k, "unknown key");
  }

 private:
  const toml::value& t_;
  const toml_file& doc_;
  std::string prefix_;
  std::set<std::string> used_;
};

}  // namespace shoal::detail
