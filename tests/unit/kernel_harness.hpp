#pragma once
// kernel_harness: runs a kind's kernel on its own window cache without any actor system, the
// way the node host does: values go in per port and bucket, outputs come out when a bucket
// fires. Kernel tests use it so they exercise the real window rules (period, warm-up, skip).

#include <algorithm>
#include <optional>
#include <vector>

#include "actors/core/kind_registry.hpp"
#include "messages/value.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal::testing {

class kernel_harness {
 public:
  // Builds the kind's kernel from params (normalized by the kind, so defaults apply) with the
  // kind's own period (or a larger one) and one port per kind port.
  kernel_harness(const std::string& kind, value_map params = {}, std::size_t period = 0,
                 std::string node_id = std::string(64, 'a'), std::int64_t interval = 1'000'000'000)
      : info_(find_kind(kind)) {
    if (!info_) throw std::invalid_argument("no kind " + kind);
    params_ = info_->normalize(params);
    period_ = std::max(period, info_->min_period(params_));
    std::vector<port_spec> ports;
    for (const auto& p : info_->ports) {
      const bool optional =
          std::count(info_->optional_ports.begin(), info_->optional_ports.end(), p) > 0;
      ports.push_back({p, true, std::nullopt, optional});
    }
    cache_.emplace(ports, interval, period_, on_missing::skip);
    kernel_ = info_->make(params_, kernel_context{node_id, interval, period_});
    interval_ = interval;
  }

  // Feeds one bucket: a value per port (in the kind's port order; nullopt = no value) and
  // returns the output if the bucket fired.
  std::optional<Value> feed(std::int64_t bucket, const std::vector<std::optional<Value>>& values) {
    ++seq_;
    for (std::size_t p = 0; p < values.size(); ++p)
      if (values[p]) cache_->offer(p, seq_, bucket, make_value(*values[p]));
    for (std::size_t p = 0; p < values.size(); ++p) cache_->watermark(p, bucket + interval_ - 1);
    std::optional<Value> out;
    while (auto r = cache_->next_ready()) {
      if (r->status != fire_status::fire) continue;
      kernel_input in{r->bucket, {}};
      for (std::size_t p = 0; p < cache_->port_count(); ++p) in.ports.push_back(&cache_->ring(p));
      out = kernel_->compute(in);
      if (kernel_->take_withheld()) out.reset();
    }
    return out;
  }
  // Single-port shorthand.
  std::optional<Value> feed(std::int64_t bucket, const Value& v) {
    return feed(bucket, std::vector<std::optional<Value>>{v});
  }

  kernel& kern() { return *kernel_; }
  std::size_t period() const { return period_; }
  const value_map& params() const { return params_; }

 private:
  const kind_info* info_;
  value_map params_;
  std::size_t period_ = 1;
  std::int64_t interval_ = 1;
  std::optional<window_cache> cache_;
  std::unique_ptr<kernel> kernel_;
  std::uint64_t seq_ = 0;
};

// {assets: [...], values: [...]} and {assets, prices} builders.
inline Value asset_values(const std::vector<std::string>& assets, const std::vector<double>& xs) {
  value_list a;
  for (const auto& s : assets) a.emplace_back(s);
  return Value(value_map{{"assets", Value(std::move(a))}, {"values", Value(f64_vector(xs))}});
}
inline Value scan(std::int64_t number, const std::vector<std::string>& assets,
                  const std::vector<double>& prices) {
  value_list a;
  for (const auto& s : assets) a.emplace_back(s);
  return Value(value_map{{"scan_number", Value(number)},
                         {"assets", Value(std::move(a))},
                         {"prices", Value(f64_vector(prices))}});
}

}  // namespace shoal::testing
