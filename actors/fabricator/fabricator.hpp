#pragma once
// fabricator: a seeded synthetic market, so the engine runs with no external feed.
// Each bucket yields one `scan` (correlated random-walk prices of every asset, with regime
// shifts between calm, trending and stressed markets) and top-N order books for most assets
// (keyed by asset), then a watermark closing the bucket. Same params → same events, always.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/prng.hpp"
#include "messages/value.hpp"

namespace shoal {

struct fabricated_bucket {
  std::int64_t bucket = 0;
  std::int64_t scan_ts = 0;
  Value scan;  // {scan_number, assets, prices}
  std::vector<std::pair<std::int64_t, Value>>
      books;                      // (ts, {asset, bid_px, bid_qty, ask_px, ask_qty})
  std::int64_t watermark_ts = 0;  // last ns of the bucket
};

class fabricator {
 public:
  // params: seed, assets, levels, start (unix seconds of the first bucket), optional books
  // (false: no order books; the scans stay the same as with them).
  fabricator(const value_map& params, std::int64_t interval_ns);

  fabricated_bucket next();
  std::int64_t buckets_made() const { return k_; }
  const std::vector<std::string>& assets() const { return names_; }
  bool books() const { return books_; }

 private:
  void step_prices();

  std::int64_t interval_ns_;
  std::int64_t start_ns_;
  std::size_t levels_;
  bool books_;
  xoshiro256ss rng_;
  std::vector<std::string> names_;
  std::vector<double> log_px_;
  std::vector<double> last_ret_;
  int regime_ = 0;  // 0 calm, 1 trending up, 2 stressed
  std::int64_t k_ = 0;
};

}  // namespace shoal
