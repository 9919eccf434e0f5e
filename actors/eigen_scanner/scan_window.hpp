#pragma once
// scan_window: the eigen_scanner's parsed view of the scans in its window, slot for slot.
//
// Parsing a scan (names, prices) costs far more than the arithmetic the scanner does per
// bucket, so each slot is parsed once and kept while it stays in the ring. An entry is tied to
// its slot by bucket and payload pointer; sync() drops entries that left the ring, re-parses
// any slot that does not match and appends new ones. Every entry is a function of the ring
// slots up to it only (see the run counters), so a kernel restored from a checkpoint rebuilds
// exactly what an uninterrupted kernel holds, as far as any output can tell.

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/core/slot_ring.hpp"

namespace shoal {

// Dense asset ids for one kernel. Ids are assigned in order of first sight, which differs
// between a restored and an uninterrupted kernel, so nothing may depend on id order:
// by_name() gives the deterministic (name) order.
class scanner_asset_ids {
 public:
  std::uint32_t intern(std::string_view name);
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }
  // All ids sorted by name.
  const std::vector<std::uint32_t>& by_name() const { return by_name_; }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> by_name_;
};

struct scan_entry {
  std::int64_t t = 0;
  value_ptr v;  // keeps the payload alive, so the pointer identifies the slot's value
  // Indexed by asset id; ids interned after this entry was parsed are past the end (= absent).
  std::vector<double> price;  // finite and > 0, or NaN when the scan has no usable price
  std::vector<double> ret;    // ln(p / p_prev) when this and the previous entry have prices
  // Consecutive entries ending here in which the asset has a price. Capped by how many
  // entries the cache held, which is enough: it is only compared with W + 1 <= ring size.
  std::vector<std::uint32_t> priced_run;
  // Consecutive returns ending here exactly equal to this one (0 without a return); an
  // asset whose last W returns are identical has zero variance over window W.
  std::vector<std::uint32_t> flat_run;

  bool has_price(std::uint32_t id) const { return id < price.size() && price[id] == price[id]; }
  double ret_of(std::uint32_t id) const {
    return id < ret.size() ? ret[id] : std::numeric_limits<double>::quiet_NaN();
  }
  std::uint32_t priced(std::uint32_t id) const {
    return id < priced_run.size() ? priced_run[id] : 0;
  }
  std::uint32_t flat(std::uint32_t id) const { return id < flat_run.size() ? flat_run[id] : 0; }
};

class scan_window {
 public:
  // Brings the cache in line with the ring. Returns false (and leaves the cache holding only
  // the slots before it) when a slot is not a scan {assets, prices}.
  bool sync(const slot_ring& ring, scanner_asset_ids& ids);

  const scan_entry& operator[](std::size_t p) const { return entries_[p]; }
  std::size_t size() const { return entries_.size(); }

 private:
  bool append(const slot& s, scanner_asset_ids& ids);

  std::deque<scan_entry> entries_;
};

}  // namespace shoal
