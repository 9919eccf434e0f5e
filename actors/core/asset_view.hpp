#pragma once
// asset_view: a zero-copy, name-sorted view of a scan ({assets, prices}) or vector output
// ({assets, values}). The windowed market kinds read `window` slots every bucket; building a
// std::map per slot (read_asset_values) costs one allocation per asset per slot, which alone
// exceeds the per-bucket budget at 48 assets. The view borrows the names from the Value, so the
// Value must outlive it (slot payloads are immutable and held by the window for the call).
// Reading rules match read_asset_series: "prices" is preferred over "values", non-finite
// entries are skipped, for scans also prices <= 0; when a name repeats the first usable entry
// wins. Shared by rolling_vol, vwap, asset_selector and dc_signal.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/core/asset_values.hpp"
#include "actors/core/slot_ring.hpp"
#include "messages/shared_lists.hpp"
#include "messages/value.hpp"

namespace shoal {

struct asset_entry {
  std::string_view name;
  double x;
};

// Fills `out` sorted by name (std::string order). False (out empty) when v is not shaped like
// {assets: [str], prices|values: numeric array of the same length}.
inline bool read_asset_view(const Value& v, std::vector<asset_entry>& out) {
  out.clear();
  const Value* assets = v.find("assets");
  if (!assets || !assets->is_list()) return false;
  const Value* numbers = v.find("prices");
  const bool is_scan = numbers != nullptr;
  if (!is_scan) numbers = v.find("values");
  if (!numbers) return false;
  const auto& names = assets->as_list();
  const auto usable = [&](double x) { return std::isfinite(x) && (!is_scan || x > 0); };
  if (numbers->is_f64_vector()) {
    const auto& xs = numbers->as_f64_vector();
    if (xs.size() != names.size()) return false;
    // Written by index, not push_back: this loop runs for every asset of every payload read.
    out.resize(xs.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!names[i].is_string()) return (out.clear(), false);
      out[n] = {names[i].as_string(), xs[i]};
      n += usable(xs[i]) ? 1 : 0;
    }
    out.resize(n);
  } else if (numbers->is_list()) {
    const auto& xs = numbers->as_list();
    if (xs.size() != names.size()) return false;
    out.reserve(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!names[i].is_string() || !xs[i].is_number()) return (out.clear(), false);
      const double x = xs[i].as_number();
      if (usable(x)) out.push_back({names[i].as_string(), x});
    }
  } else {
    return false;
  }
  const auto by_name = [](const asset_entry& a, const asset_entry& b) { return a.name < b.name; };
  // Producers usually list assets in name order already; only sort when they do not. A shared
  // list known to be ascending needs no check (its usable entries are a subsequence).
  const auto strictly = [](const asset_entry& a, const asset_entry& b) { return a.name >= b.name; };
  const auto* shared = assets->as_shared_list();
  if (!(shared && (*shared)->ascending) &&
      std::adjacent_find(out.begin(), out.end(), strictly) != out.end()) {
    std::stable_sort(out.begin(), out.end(), by_name);  // stable: the first entry of a name wins
    out.erase(
        std::unique(out.begin(), out.end(),
                    [](const asset_entry& a, const asset_entry& b) { return a.name == b.name; }),
        out.end());
  }
  return true;
}

// When read_asset_view would view all of v in its list's order — v names a shared, ascending
// asset list and has a number for each, every one usable — that list and those numbers, so a
// kernel can walk them by position without building a view. {nullptr, nullptr} otherwise.
struct whole_view {
  const shared_list* list = nullptr;
  const f64_vector* xs = nullptr;
};
inline whole_view read_whole_view(const Value& v) {
  const Value* assets = v.find("assets");
  const shared_list* list = assets ? assets->as_shared_list() : nullptr;
  if (!list || !*list || !(*list)->ascending) return {};
  const Value* numbers = v.find("prices");
  const bool is_scan = numbers != nullptr;
  if (!is_scan) numbers = v.find("values");
  if (!numbers || !numbers->is_f64_vector()) return {};
  const auto& xs = numbers->as_f64_vector();
  if (xs.size() != (*list)->items.size()) return {};
  for (const double x : xs) {
    if (!std::isfinite(x) || (is_scan && !(x > 0))) return {};
  }
  return {list, &xs};
}

// Dense ids for asset names, so per-bucket window gathers index arrays instead of comparing
// strings (string compares were most of the cost at 48 assets x 20 slots). Grows with every
// distinct name seen, i.e. with the asset universe.
class asset_ids {
 public:
  std::uint32_t id(std::string_view name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const auto next = static_cast<std::uint32_t>(ids_.size());
    ids_.emplace(std::string(name), next);
    return next;
  }
  std::size_t size() const { return ids_.size(); }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, hash, std::equal_to<>> ids_;
};

// The parsed views of a run of window slots, kept across buckets: a slot stays in the window
// for `period` buckets, so parsing it once when it enters (instead of every bucket) divides the
// reading cost by the period. Entries are matched by payload pointer and hold the payload, so
// a freed-and-reused address can never alias a cached view. Not kernel state: a fresh cache
// rebuilds the same views from the window, so checkpoints need not include it.
class view_cache {
 public:
  struct entry {
    value_ptr v;
    bool ok = false;
    std::vector<asset_entry> view;
    std::vector<double> xs;          // view[i].x, contiguous (for loops over assets)
    std::vector<std::uint32_t> ids;  // asset_ids of the view's names, same order
    const shared_names* list = nullptr;  // v's shared asset list when the view holds all of it
    // Per-entry values a kernel derives from the view (asset_selector: log prices), computed
    // once per payload like the view itself; aux_ready is cleared whenever the view changes.
    bool aux_ready = false;
    std::vector<double> aux;
  };

  // Makes entries()[k] the view of w[first + k], k < n, naming assets with `ids` (always the
  // same table for a given cache). False when a slot is not shaped like
  // asset values (its entry has ok = false).
  bool sync(const slot_ring& w, std::size_t first, std::size_t n, asset_ids& ids) {
    next_.resize(n);
    bool all_ok = true;
    for (std::size_t k = 0; k < n; ++k) {
      const value_ptr& v = w[first + k].v;
      entry& e = next_[k];
      // The window usually moved by one slot since the last call: try that entry first.
      auto hit = k + 1 < cur_.size() && cur_[k + 1].v.get() == v.get()
                     ? cur_.begin() + static_cast<std::ptrdiff_t>(k + 1)
                     : std::find_if(cur_.begin(), cur_.end(),
                                    [&](const entry& c) { return c.v && c.v.get() == v.get(); });
      if (hit != cur_.end()) {
        std::swap(e, *hit);  // moved out: a payload shared by two slots (ffill) parses again
      } else {
        e.v = v;
        e.ok = read_asset_view(*v, e.view);
        e.xs.resize(e.view.size());
        for (std::size_t i = 0; i < e.view.size(); ++i) {
          e.xs[i] = e.view[i].x;
        }
        e.list = full_list(*v, e.view);
        // The previous slot names the same shared list, all of it: same names, same ids.
        // (Both entries hold their payloads, so equal addresses are one live list.)
        if (k > 0 && e.list && next_[k - 1].list == e.list) {
          e.ids = next_[k - 1].ids;
        } else {
          e.ids.clear();
          for (const auto& a : e.view) {
            e.ids.push_back(ids.id(a.name));
          }
        }
        e.aux_ready = false;
      }
      all_ok = all_ok && e.ok;
    }
    std::swap(cur_, next_);
    for (auto& e : next_) {
      e.v.reset();  // spare buffers only: do not keep old payloads alive
      e.list = nullptr;
    }
    return all_ok;
  }
  std::vector<entry>& entries() { return cur_; }
  const std::vector<asset_entry>& view(std::size_t k) const { return cur_[k].view; }

 private:
  // v's asset list when it is a shared one whose every name is in `view`, in its order.
  static const shared_names* full_list(const Value& v, const std::vector<asset_entry>& view) {
    const Value* assets = v.find("assets");
    const auto* shared = assets ? assets->as_shared_list() : nullptr;
    if (!shared || !*shared || !(*shared)->ascending || (*shared)->items.size() != view.size()) {
      return nullptr;
    }
    return shared->get();
  }

  std::vector<entry> cur_, next_;
};

// Looks `name` up in a sorted view; nullptr when absent.
inline const asset_entry* find_asset(const std::vector<asset_entry>& view, std::string_view name) {
  auto it = std::lower_bound(view.begin(), view.end(), name,
                             [](const asset_entry& e, std::string_view n) { return e.name < n; });
  return it != view.end() && it->name == name ? &*it : nullptr;
}

// Walks a sorted view alongside names visited in increasing order: lookups cost O(1) amortized
// instead of a binary search each.
class asset_cursor {
 public:
  explicit asset_cursor(const std::vector<asset_entry>& view) : view_(view) {}
  const asset_entry* seek(std::string_view name) {
    while (i_ < view_.size() && view_[i_].name < name) ++i_;
    return i_ < view_.size() && view_[i_].name == name ? &view_[i_] : nullptr;
  }

 private:
  const std::vector<asset_entry>& view_;
  std::size_t i_ = 0;
};

// {assets, values} from (name, value) pairs already in name order (what make_asset_values
// builds from a map, without the map). The output shares a list object with equal names
// (messages/shared_lists.hpp): `input`'s, when given and the names are its entries one for one
// (a kernel that kept every asset of its input), else a recent one of this thread's.
inline Value make_asset_values(const std::vector<asset_entry>& sorted,
                               const Value* input = nullptr) {
  f64_vector xs;
  xs.reserve(sorted.size());
  for (const auto& e : sorted) {
    xs.push_back(e.x);
  }
  const Value* in_assets = input ? input->find("assets") : nullptr;
  auto names = intern_name_list(
      sorted.size(), [&](std::size_t i) { return sorted[i].name; },
      in_assets ? in_assets->as_shared_list() : nullptr);
  return asset_values_map(Value(std::move(names)), Value(std::move(xs)));
}

}  // namespace shoal
