#include "runtime/window/window_cache.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <unordered_set>
#include <utility>

namespace shoal {

namespace {

constexpr std::int64_t k_min = std::numeric_limits<std::int64_t>::min();

// Floor bucket of ts, or nullopt when it would be below INT64_MIN. Computed without wider
// integers: r = mod(ts, interval) in [0, interval), and ts - r overflows only if ts < MIN + r.
std::optional<std::int64_t> floor_bucket(std::int64_t ts, std::int64_t interval) {
  std::int64_t r = ts % interval;  // sign of ts in C++
  if (r < 0) r += interval;
  if (ts < k_min + r) return std::nullopt;
  return ts - r;
}

// The bucket just before `bucket`, or nullopt when there is none representable.
std::optional<std::int64_t> previous_bucket(std::int64_t bucket, std::int64_t interval) {
  if (bucket < k_min + interval) return std::nullopt;
  return bucket - interval;
}

// Key of a keyed record: strings as is, ints in decimal (asset ids are often numeric).
std::optional<std::string> extract_key(const Value& v, const std::string& field) {
  const Value* k = v.find(field);
  if (!k) return std::nullopt;
  if (k->is_string()) return k->as_string();
  if (k->is_int()) return std::to_string(k->as_int());
  return std::nullopt;
}

// Rough heap cost of a red-black tree node beyond its value (parent/left/right/color).
constexpr std::size_t k_tree_node = 4 * sizeof(void*);
// Rough cost of a make_shared control block (two counters + vtable).
constexpr std::size_t k_control_block = 2 * sizeof(long) + sizeof(void*);

std::size_t string_heap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

std::int64_t bucket_of(std::int64_t ts, std::int64_t interval_ns) {
  if (interval_ns <= 0) throw std::invalid_argument("bucket_of: interval must be > 0");
  auto b = floor_bucket(ts, interval_ns);
  if (!b) throw std::out_of_range("bucket_of: bucket of ts " + std::to_string(ts) + " underflows");
  return *b;
}

window_cache::window_cache(std::vector<port_spec> ports, std::int64_t interval_ns,
                           std::size_t period, on_missing policy)
    : specs_(std::move(ports)), interval_(interval_ns), period_(period), policy_(policy) {
  if (interval_ <= 0) throw std::invalid_argument("window_cache: interval must be > 0");
  if (period_ == 0) throw std::invalid_argument("window_cache: period must be >= 1");
  for (std::size_t i = 0; i < specs_.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (specs_[i].name == specs_[j].name)
        throw std::invalid_argument("window_cache: duplicate port '" + specs_[i].name + "'");
  ports_.reserve(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i) ports_.emplace_back(period_);
}

window_cache::port_state& window_cache::state(std::size_t port) {
  if (port >= ports_.size())
    throw std::out_of_range("window_cache: no port " + std::to_string(port));
  return ports_[port];
}

const window_cache::port_state& window_cache::state(std::size_t port) const {
  if (port >= ports_.size())
    throw std::out_of_range("window_cache: no port " + std::to_string(port));
  return ports_[port];
}

offer_status window_cache::offer(std::size_t port, std::uint64_t seq, std::int64_t ts,
                                 value_ptr v) {
  port_state& p = state(port);
  if (!v) throw std::invalid_argument("window_cache: null payload");
  // seq is strictly increasing per stream, so anything not above the last accepted one is a
  // redelivery (reconnect, replay overlap) and must not change the window.
  if (p.last_seq && seq <= *p.last_seq) {
    ++counters_.duplicates;
    return offer_status::duplicate;
  }
  const std::int64_t b = bucket_of(ts, interval_);
  // Late: the bucket was already closed (explicitly, or by a later event opening a later
  // bucket). Accepting it would make the output depend on arrival timing, breaking parity.
  if (b <= p.closed_through || (p.open && b < *p.open)) {
    ++counters_.late_dropped;
    return offer_status::late;
  }
  const port_spec& spec = specs_[port];
  std::string key;
  if (spec.key_field) {
    auto k = extract_key(*v, *spec.key_field);
    if (!k) {
      ++counters_.missing_key;
      return offer_status::missing_key;
    }
    key = std::move(*k);
  }
  p.last_seq = seq;
  ++counters_.accepted;
  // A later event closes everything before its bucket (design §5: sources close buckets on a
  // later event), which also moves the previous open bucket to pending.
  if (auto prev = previous_bucket(b, interval_)) raise_closed(port, *prev);
  p.open = b;
  // Last write wins within the bucket: arrival order is seq order, whatever the ts order.
  if (spec.key_field)
    p.open_keyed.insert_or_assign(std::move(key), std::move(v));
  else
    p.open_value = std::move(v);
  if (spec.one_per_bucket) raise_closed(port, b);
  return offer_status::accepted;
}

void window_cache::close_open(std::size_t port) {
  port_state& p = ports_[port];
  if (!p.open) return;
  value_ptr closed;
  if (specs_[port].key_field) {
    // Value maps hold values, not pointers, so the bucket value owns copies of the payloads;
    // the per-key pointers are released right after.
    value_map m;
    for (const auto& [k, payload] : p.open_keyed) m.emplace(k, *payload);
    closed = make_value(Value(std::move(m)));
    p.open_keyed.clear();
  } else {
    closed = std::move(p.open_value);
    p.open_value.reset();
  }
  // The open bucket is always above closed-through, so it cannot already be pending.
  p.pending.emplace(*p.open, std::move(closed));
  p.open.reset();
}

void window_cache::raise_closed(std::size_t port, std::int64_t bucket) {
  port_state& p = ports_[port];
  if (bucket > p.closed_through) p.closed_through = bucket;
  if (p.open && *p.open <= p.closed_through) close_open(port);
}

void window_cache::close_through(std::size_t port, std::int64_t bucket) {
  state(port);  // validates the port
  auto b = floor_bucket(bucket, interval_);
  if (b) raise_closed(port, *b);
}

void window_cache::watermark(std::size_t port, std::int64_t ts) {
  state(port);
  // Largest bucket b with b + interval - 1 <= ts, i.e. floor(ts - (interval - 1)).
  // Written as ts - (interval - 1) so that ts = INT64_MAX does not overflow.
  if (ts < k_min + (interval_ - 1)) return;
  auto b = floor_bucket(ts - (interval_ - 1), interval_);
  if (b) raise_closed(port, *b);
}

std::int64_t window_cache::closed_through() const {
  if (ports_.empty()) return k_min;
  std::int64_t c = std::numeric_limits<std::int64_t>::max();
  for (const auto& p : ports_) c = std::min(c, p.closed_through);
  return c;
}

std::int64_t window_cache::closed_through(std::size_t port) const {
  return state(port).closed_through;
}

std::optional<std::int64_t> window_cache::open_bucket(std::size_t port) const {
  return state(port).open;
}

std::size_t window_cache::pending_count(std::size_t port) const {
  return state(port).pending.size();
}

void window_cache::clear_failure() {
  failed_ = false;
  failure_.clear();
}

void window_cache::forget_seq(std::size_t port) { state(port).last_seq.reset(); }

std::optional<std::uint64_t> window_cache::last_seq(std::size_t port) const {
  return state(port).last_seq;
}

const slot_ring& window_cache::ring(std::size_t port) const { return state(port).ring; }

std::optional<ready_bucket> window_cache::next_ready() {
  if (failed_ || ports_.empty()) return std::nullopt;
  const std::int64_t c = closed_through();
  // Smallest pending bucket over all ports. Every pending bucket of every port is <= that
  // port's closed-through, and buckets are released in order, so nothing pending can be
  // below the candidate once it is chosen.
  std::optional<std::int64_t> candidate;
  for (const auto& p : ports_)
    if (!p.pending.empty() && (!candidate || p.pending.begin()->first < *candidate))
      candidate = p.pending.begin()->first;
  if (!candidate || *candidate > c) return std::nullopt;
  const std::int64_t b = *candidate;

  ready_bucket out{b, fire_status::fire, {}};
  std::string missing_ports;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    port_state& p = ports_[i];
    auto it = p.pending.begin();
    if (it != p.pending.end() && it->first == b) {
      // Ports with a value record it even when the bucket is skipped: it is history.
      p.ring.push(slot{b, std::move(it->second)});
      p.pending.erase(it);
      continue;
    }
    ++counters_.missing;
    if (specs_[i].optional) continue;
    if (!missing_ports.empty()) missing_ports += ", ";
    missing_ports += "'" + specs_[i].name + "'";
    switch (policy_) {
      case on_missing::skip:
        if (out.status != fire_status::failed) out.status = fire_status::skipped;
        break;
      case on_missing::fail:
        out.status = fire_status::failed;
        break;
      case on_missing::ffill:
        // Nothing to carry before the first value: the ring stays short, so this bucket
        // counts as warm-up below.
        if (!p.ring.empty()) {
          p.ring.push(slot{b, p.ring.back().v});
          ++counters_.ffilled;
        }
        break;
    }
  }

  if (out.status == fire_status::fire) {
    for (std::size_t i = 0; i < ports_.size(); ++i)
      if (!specs_[i].optional && !ports_[i].ring.full()) out.status = fire_status::warming;
  }
  switch (out.status) {
    case fire_status::fire:
      ++counters_.fired;
      break;
    case fire_status::warming:
      ++counters_.warming;
      break;
    case fire_status::skipped:
      ++counters_.skipped;
      out.reason = "no value for bucket " + std::to_string(b) + " on port(s) " + missing_ports;
      break;
    case fire_status::failed:
      out.reason = "on_missing=fail: no value for bucket " + std::to_string(b) + " on port(s) " +
                   missing_ports;
      failed_ = true;
      failure_ = out.reason;
      break;
  }
  return out;
}

std::size_t window_cache::resident_bytes() const {
  std::unordered_set<const Value*> seen;
  std::size_t n = sizeof(*this) + ports_.capacity() * sizeof(port_state) +
                  specs_.capacity() * sizeof(port_spec);
  auto payload = [&](const value_ptr& v) {
    if (v && seen.insert(v.get()).second) n += k_control_block + shoal::resident_bytes(*v);
  };
  for (const auto& s : specs_) {
    n += string_heap(s.name);
    if (s.key_field) n += string_heap(*s.key_field);
  }
  for (const auto& p : ports_) {
    n += p.ring.capacity() * sizeof(slot);
    for (std::size_t i = 0; i < p.ring.size(); ++i) payload(p.ring[i].v);
    for (const auto& [b, v] : p.pending) {
      n += k_tree_node + sizeof(std::pair<const std::int64_t, value_ptr>);
      payload(v);
    }
    payload(p.open_value);
    for (const auto& [k, v] : p.open_keyed) {
      n += k_tree_node + sizeof(std::pair<const std::string, value_ptr>) + string_heap(k);
      payload(v);
    }
  }
  return n;
}

}  // namespace shoal
