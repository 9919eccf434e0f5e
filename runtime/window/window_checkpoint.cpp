// window_cache::save / restore: a node's window as a Value, for checkpoints in the state db.
#include <stdexcept>

#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

Value opt_int(std::optional<std::int64_t> v) { return v ? Value(*v) : Value(); }

Value slot_pair(std::int64_t t, const value_ptr& v) {
  return Value(value_list{Value(t), v ? *v : Value()});
}

const Value& field(const Value& m, const char* key) {
  const Value* v = m.find(key);
  if (!v) throw std::invalid_argument(std::string("window checkpoint: missing ") + key);
  return *v;
}

}  // namespace

Value window_cache::save() const {
  value_list ports;
  for (const auto& p : ports_) {
    value_list ring, pending;
    for (std::size_t i = 0; i < p.ring.size(); ++i)
      ring.push_back(slot_pair(p.ring[i].t, p.ring[i].v));
    for (const auto& [b, v] : p.pending) pending.push_back(slot_pair(b, v));
    value_map keyed;
    for (const auto& [k, v] : p.open_keyed) keyed.emplace(k, *v);
    ports.push_back(Value(value_map{
        {"ring", Value(std::move(ring))},
        {"pending", Value(std::move(pending))},
        {"open", opt_int(p.open)},
        {"open_value", p.open_value ? *p.open_value : Value()},
        {"open_keyed", Value(std::move(keyed))},
        {"closed", p.closed_through == INT64_MIN ? Value() : Value(p.closed_through)},
        {"last_seq", p.last_seq ? Value(static_cast<std::int64_t>(*p.last_seq)) : Value()},
    }));
  }
  const auto& c = counters_;
  return Value(value_map{
      {"ports", Value(std::move(ports))},
      {"failed", Value(failed_)},
      {"failure", Value(failure_)},
      {"counters", Value(value_map{{"accepted", Value(c.accepted)},
                                   {"duplicates", Value(c.duplicates)},
                                   {"late_dropped", Value(c.late_dropped)},
                                   {"missing_key", Value(c.missing_key)},
                                   {"missing", Value(c.missing)},
                                   {"skipped", Value(c.skipped)},
                                   {"ffilled", Value(c.ffilled)},
                                   {"fired", Value(c.fired)},
                                   {"warming", Value(c.warming)}})},
  });
}

void window_cache::restore(const Value& saved) {
  const auto& ports = field(saved, "ports").as_list();
  if (ports.size() != ports_.size())
    throw std::invalid_argument("window checkpoint: port count differs from the node's");
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const Value& s = ports[i];
    port_state p(period_);
    for (const auto& x : field(s, "ring").as_list())
      p.ring.push(slot{x.as_list().at(0).as_int(), make_value(x.as_list().at(1))});
    for (const auto& x : field(s, "pending").as_list())
      p.pending.emplace(x.as_list().at(0).as_int(), make_value(x.as_list().at(1)));
    if (const Value& o = field(s, "open"); o.is_int()) p.open = o.as_int();
    if (const Value& o = field(s, "open_value"); !o.is_nil()) p.open_value = make_value(o);
    for (const auto& [k, v] : field(s, "open_keyed").as_map())
      p.open_keyed.emplace(k, make_value(v));
    if (const Value& c = field(s, "closed"); c.is_int()) p.closed_through = c.as_int();
    if (const Value& l = field(s, "last_seq"); l.is_int())
      p.last_seq = static_cast<std::uint64_t>(l.as_int());
    ports_[i] = std::move(p);
  }
  failed_ = field(saved, "failed").as_bool();
  failure_ = field(saved, "failure").as_string();
  const Value& c = field(saved, "counters");
  auto n = [&](const char* k) { return static_cast<std::uint64_t>(field(c, k).as_int()); };
  counters_ = window_counters{n("accepted"),    n("duplicates"), n("late_dropped"),
                              n("missing_key"), n("missing"),    n("skipped"),
                              n("ffilled"),     n("fired"),      n("warming")};
}

}  // namespace shoal
