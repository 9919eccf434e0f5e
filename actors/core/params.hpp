#pragma once
// param_reader: validates a kind's params at config load. Every getter checks type and range,
// fills the default, and records the key; finish() rejects keys the kind does not know.
// The normalized map (defaults filled, ints where ints are meant) is what the NodeID hashes,
// so `zscore{}` and `zscore{window = 20}` are the same node.

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include "messages/value.hpp"

namespace shoal {

class param_error : public std::runtime_error {
 public:
  param_error(std::string key, const std::string& message)
      : std::runtime_error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

class param_reader {
 public:
  explicit param_reader(const value_map& params) : params_(params) {}

  std::int64_t get_int(const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max);
  double get_double(const std::string& key, double def, double min, double max);
  // A duration string ("60s", "250ms") or integer nanoseconds; stored as int ns.
  std::int64_t get_duration(const std::string& key, std::int64_t def_ns);
  std::vector<std::int64_t> get_int_list(const std::string& key, std::vector<std::int64_t> def,
                                         std::int64_t min, std::int64_t max, std::size_t max_len);

  // Throws param_error for the first key no getter asked for. Returns the normalized params.
  value_map finish() const;

 private:
  const value_map& params_;
  value_map normalized_;
};

}  // namespace shoal
