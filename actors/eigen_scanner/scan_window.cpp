#include "actors/eigen_scanner/scan_window.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "messages/payloads.hpp"

namespace shoal {

std::uint32_t scanner_asset_ids::intern(std::string_view name) {
  std::string key(name);
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  ids_.emplace(key, id);
  names_.push_back(std::move(key));
  auto pos = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                              [&](std::uint32_t a, std::string_view n) { return names_[a] < n; });
  by_name_.insert(pos, id);
  return id;
}

bool scan_window::sync(const slot_ring& ring, scanner_asset_ids& ids) {
  const std::size_t n = ring.size();
  while (!entries_.empty() && (n == 0 || entries_.front().t < ring[0].t)) entries_.pop_front();
  // Keep the matching prefix; anything after a mismatch (a slot replaced under the same bucket,
  // a ring that jumped) is parsed again.
  std::size_t keep = 0;
  while (keep < entries_.size() && keep < n && entries_[keep].t == ring[keep].t &&
         entries_[keep].v == ring[keep].v)
    ++keep;
  entries_.resize(keep);
  for (std::size_t p = keep; p < n; ++p)
    if (!append(ring[p], ids)) return false;
  return true;
}

bool scan_window::append(const slot& s, scanner_asset_ids& ids) {
  asset_series series;
  if (!s.v || !s.v->find("prices") || !read_asset_series(*s.v, series)) return false;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::uint32_t> seen;
  seen.reserve(series.assets.size());
  for (const auto& name : series.assets) seen.push_back(ids.intern(name));

  scan_entry e;
  e.t = s.t;
  e.v = s.v;
  const std::size_t m = ids.size();
  e.price.assign(m, nan);
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (std::isnan(e.price[seen[i]])) e.price[seen[i]] = series.values[i];  // first one wins

  e.ret.assign(m, nan);
  e.priced_run.assign(m, 0);
  e.flat_run.assign(m, 0);
  const scan_entry* prev = entries_.empty() ? nullptr : &entries_.back();
  for (std::uint32_t id = 0; id < m; ++id) {
    if (!e.has_price(id)) continue;
    e.priced_run[id] = 1 + (prev ? prev->priced(id) : 0);
    if (!prev || !prev->has_price(id)) continue;
    e.ret[id] = std::log(e.price[id] / prev->price[id]);
    // The ratio of two finite positive doubles can still overflow or underflow at the ends
    // of the double range; such a step breaks the asset's run like a missing price would.
    if (!std::isfinite(e.ret[id])) {
      e.ret[id] = nan;
      e.priced_run[id] = 1;
      continue;
    }
    const double before = prev->ret_of(id);
    e.flat_run[id] = before == e.ret[id] ? 1 + prev->flat(id) : 1;
  }
  entries_.push_back(std::move(e));
  return true;
}

}  // namespace shoal
