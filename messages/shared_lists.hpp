#pragma once
// shared_lists: one immutable list object per distinct asset-name list, per thread.
//
// A scan's asset list is the same from one scan to the next in a stable universe, and every
// vector output derived from it (log_return, ema, zscore, ...) names the same assets. Interning
// the list lets all of them hold one shared object: decoding a scan allocates no strings when
// its list was seen recently, a kernel's output reuses its input's list by pointer, and copying
// any of these payloads copies a pointer. The contents, and so the wire bytes, never change.
//
// The cache is small (the lists of the last few streams, least recently used evicted) and per
// thread, so it needs no lock; a miss only costs building the list, as before. A list whose
// memory (its entries and names) exceeds max_bytes is not kept, so a hostile stream can pin at
// most capacity × max_bytes (and as much again in encoded bytes) per decoding thread.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/value.hpp"

namespace shoal {

struct shared_list_cache {
  static constexpr std::size_t capacity = 8;
  static constexpr std::size_t max_bytes = 1 << 20;
  std::array<shared_list, capacity> lists;
  std::array<std::uint64_t, capacity> used{};  // when each was last returned (0: empty)
  std::uint64_t clock = 0;

  static shared_list_cache& this_thread();
};

// Fills names.encoded with the MessagePack array of names.items.
void encode_names(shared_names& names);

// Whether `list` holds exactly the strings name(0) … name(n − 1); a name that points into the
// list's own strings matches without comparing characters, and `by_pointer` accepts no other.
template <class Name>
bool same_names(const shared_names& list, std::size_t n, Name& name, bool by_pointer) {
  if (list.items.size() != n) {
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& have = list.items[i].as_string();
    const std::string_view want = name(i);
    const bool here = want.data() == have.data() && want.size() == have.size();
    if (!here && (by_pointer || want != have)) {
      return false;
    }
  }
  return true;
}

// The shared list of strings name(0) … name(n − 1) (each a std::string_view): `hint` when the
// names are its own entries (a kernel's input list, possibly from another thread), else a
// cached one with the same strings, else a new one (cached when small).
template <class Name>
shared_list intern_name_list(std::size_t n, Name&& name, const shared_list* hint = nullptr) {
  if (hint && *hint && same_names(**hint, n, name, true)) {
    return *hint;
  }
  auto& cache = shared_list_cache::this_thread();
  for (std::size_t slot = 0; slot < shared_list_cache::capacity; ++slot) {
    const auto& list = cache.lists[slot];
    if (list && same_names(*list, n, name, false)) {
      cache.used[slot] = ++cache.clock;
      return list;
    }
  }
  shared_names built;
  built.items.reserve(n);
  std::size_t bytes = 0;
  built.ascending = true;
  std::string_view previous;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view s = name(i);
    bytes += sizeof(Value) + s.size();
    if (i > 0 && !(previous < s)) {
      built.ascending = false;
    }
    previous = s;
    built.items.emplace_back(std::string(s));
  }
  // Only a list worth keeping gets its bytes: a one-off huge list would pay twice its size.
  const bool keep = bytes <= shared_list_cache::max_bytes;
  if (keep) {
    encode_names(built);
  }
  auto made = std::make_shared<const shared_names>(std::move(built));
  if (keep) {
    const auto slot = static_cast<std::size_t>(
        std::min_element(cache.used.begin(), cache.used.end()) - cache.used.begin());
    cache.lists[slot] = made;
    cache.used[slot] = ++cache.clock;
  }
  return made;
}

// intern_name_list for names decoded from `encoded`, their MessagePack array as it came: a
// cached list whose own encoding is those bytes holds exactly those names, so it is found with
// one compare of the bytes instead of one per name (a frame that chose other forms for the
// same names falls through to the names).
template <class Name>
shared_list intern_encoded_name_list(std::string_view encoded, std::size_t n, Name&& name) {
  auto& cache = shared_list_cache::this_thread();
  for (std::size_t slot = 0; slot < shared_list_cache::capacity; ++slot) {
    const auto& list = cache.lists[slot];
    if (list && list->encoded == encoded) {
      cache.used[slot] = ++cache.clock;
      return list;
    }
  }
  return intern_name_list(n, name);
}

}  // namespace shoal
