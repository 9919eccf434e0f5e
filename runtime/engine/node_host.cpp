#include "runtime/engine/node_host.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <functional>

#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/window_cache.hpp"

namespace shoal {
namespace {

struct node_host_state {
  node_host_args args;
  const plan_node* spec = nullptr;
  std::unique_ptr<window_cache> cache;
  std::unique_ptr<kernel> kern;
  kernel_input input;
  std::vector<std::int64_t> port_interval;  // upstream interval per port (0 for raw events)
  std::uint64_t out_seq = 0;
  std::int64_t forwarded_ts = INT64_MIN;  // subscribers know we are closed through this ts
  std::uint64_t events_in = 0;
  std::uint64_t drains = 0;
  std::size_t window_bytes = 0;
  bool failed = false;
  // Paused: inputs are held in arrival order (bounded) and handled on resume.
  bool paused = false;
  std::deque<std::function<void()>> held;
  std::uint64_t held_overflow = 0;
  static constexpr std::size_t max_held = 100'000;
  std::array<std::uint64_t, 10> compute_counts{};
  double compute_sum_s = 0;
  std::vector<std::string> names;  // published under these (changes when strategies come and go)

  static inline const char* name = "shoal.node";
};

using node_actor = caf::stateful_actor<node_host_state>;

std::vector<port_spec> ports_of(const plan& g, const plan_node& n) {
  std::vector<port_spec> ports;
  if (n.is_stream()) {
    ports.push_back({"in", n.stream->one_per_bucket, n.stream->key});
    return ports;
  }
  const kind_info* kind = find_kind(n.kind);
  for (const auto& in : n.inputs) {
    // An upstream of the same interval emits one value per bucket: its output closes the bucket.
    const bool same = g.nodes[in.upstream].interval_ns == n.interval_ns;
    const bool optional =
        std::count(kind->optional_ports.begin(), kind->optional_ports.end(), in.port) > 0;
    ports.push_back({in.port, same, std::nullopt, optional});
  }
  return ports;
}

void fail(node_actor* self, const std::string& reason) {
  auto& st = self->state;
  st.failed = true;
  spdlog::error("node {}: FAILED: {}", st.spec->name(), reason);
  st.args.board->update(st.args.report, [&](node_report& r) {
    r.state = node_state::failed;
    r.reason = reason;
  });
}

void emit(node_actor* self, std::int64_t bucket, Value value) {
  auto& st = self->state;
  auto v = make_value(std::move(value));
  const std::uint64_t seq = ++st.out_seq;
  Output out{"", st.spec->id, bucket, seq, v};
  for (const auto& name : st.names) {
    out.node = name;
    std::string bytes = encode_output(out);
    // The store keeps one record per NodeID, under its first name.
    if (&name == &st.names.front()) {
      if (st.args.digest) st.args.digest->add(name, bucket, bytes);
      if (st.args.writer) st.args.writer->put_output(st.spec->id, bucket, bytes);
    }
    if (st.args.pub) st.args.pub->publish(name, std::move(bytes));
  }
  st.args.flow->sent(static_cast<std::int64_t>(st.args.subscribers.size()));
  for (const auto& s : st.args.subscribers)
    self->send(s.actor, output_atom::value, s.port, seq, bucket, v);
  st.args.board->update(st.args.report, [&](node_report& r) {
    r.last_value = v;
    r.last_seq = seq;
    r.last_bucket = bucket;
  });
  st.forwarded_ts = std::max(st.forwarded_ts, bucket + st.spec->interval_ns - 1);
}

// Fires every bucket the window has ready, then tells subscribers how far we are closed.
void drain(node_actor* self) {
  auto& st = self->state;
  if (st.failed) return;
  while (auto ready = st.cache->next_ready()) {
    switch (ready->status) {
      case fire_status::fire: {
        st.input.bucket = ready->bucket;
        Value v;
        try {
          const auto t0 = std::chrono::steady_clock::now();
          v = st.kern->compute(st.input);
          const double secs =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          std::size_t b = 0;
          while (b < compute_bounds_s.size() && secs > compute_bounds_s[b]) ++b;
          ++st.compute_counts[b];
          st.compute_sum_s += secs;
        } catch (const std::exception& e) {
          fail(self, std::string("kernel threw at bucket ") + std::to_string(ready->bucket) + ": " +
                         e.what());
          return;
        }
        if (!st.kern->take_withheld()) emit(self, ready->bucket, std::move(v));
        break;
      }
      case fire_status::failed:
        fail(self, ready->reason);
        return;
      case fire_status::warming:
      case fire_status::skipped:
        break;
    }
  }
  const std::int64_t closed = st.cache->closed_through();
  if (closed != INT64_MIN) {
    const std::int64_t ts = closed + st.spec->interval_ns - 1;
    if (ts > st.forwarded_ts) {
      st.args.flow->sent(static_cast<std::int64_t>(st.args.subscribers.size()));
      for (const auto& s : st.args.subscribers)
        self->send(s.actor, watermark_atom::value, s.port, ts);
      st.forwarded_ts = ts;
    }
  }
  const auto& c = st.cache->counters();
  // resident_bytes() walks the whole window: sample it rather than pay for it on every message.
  if (st.drains++ % 64 == 0) st.window_bytes = st.cache->resident_bytes();
  st.args.board->update(st.args.report, [&](node_report& r) {
    r.events_in = st.events_in;
    r.outputs = st.out_seq;
    r.late_dropped = c.late_dropped;
    r.duplicates = c.duplicates;
    r.missing = c.missing;
    r.window_bytes = st.window_bytes;
    if (r.state == node_state::warming && st.out_seq > 0) r.state = node_state::running;
    r.compute_counts = st.compute_counts;
    r.compute_sum_s = st.compute_sum_s;
    r.mailbox = self->mailbox().size();
    r.notes.clear();
    for (const auto& [why, n] : st.kern->notes()) r.notes.emplace(why, n);
  });
}

// Every input message: feed the window, fire what is ready, and account for the message in
// flow control. A FAILED node takes nothing more (no unbounded buffering); anything the window
// throws (a timestamp beyond the representable range) fails the node instead of killing it.
template <class Feed>
void handle(node_actor* self, Feed&& feed) {
  auto& s = self->state;
  if (s.paused) {
    // Held, not handled: replayed in order on resume. Counted as handled for flow control,
    // so a paused node never stalls replay or shutdown (checkpoints wait for resume).
    if (s.held.size() < node_host_state::max_held) {
      s.held.emplace_back([self, f = std::function<void(node_host_state&)>(feed)]() mutable {
        auto& st = self->state;
        if (st.failed) return;
        try {
          f(st);
          drain(self);
        } catch (const std::exception& e) {
          fail(self, std::string("input rejected by the window: ") + e.what());
        }
      });
    } else {
      ++s.held_overflow;
    }
    s.args.board->update(s.args.report, [&](node_report& r) {
      r.held = s.held.size();
      r.held_overflow = s.held_overflow;
    });
    s.args.flow->handled();
    return;
  }
  if (!s.failed) {
    try {
      feed(s);
      drain(self);
    } catch (const std::exception& e) {
      fail(self, std::string("input rejected by the window: ") + e.what());
    }
  }
  s.args.flow->handled();
}

decode_limits checkpoint_limits() {
  decode_limits l;
  l.max_bytes = std::size_t{1} << 30;
  l.max_depth = 64;
  return l;
}

// Everything needed to continue exactly where the node stopped.
Value save(const node_host_state& st) {
  return Value(value_map{{"window", st.cache->save()},
                         {"kernel", st.kern->save_state()},
                         {"out_seq", Value(st.out_seq)},
                         {"forwarded_ts", Value(st.forwarded_ts)},
                         {"events_in", Value(st.events_in)}});
}

void restore(node_host_state& st, const Value& v) {
  st.cache->restore(*v.find("window"));
  st.kern->restore_state(*v.find("kernel"));
  st.out_seq = static_cast<std::uint64_t>(v.find("out_seq")->as_int());
  st.forwarded_ts = v.find("forwarded_ts")->as_int();
  st.events_in = static_cast<std::uint64_t>(v.find("events_in")->as_int());
  if (st.cache->failed()) st.failed = true;
}

caf::behavior node_host(node_actor* self, node_host_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.spec = &st.args.graph->nodes[st.args.index];
  st.names = st.spec->names;
  const plan_node& n = *st.spec;
  const kind_info* kind = find_kind(n.kind);
  auto policy = parse_on_missing(n.on_missing).value_or(on_missing::skip);
  st.cache =
      std::make_unique<window_cache>(ports_of(*st.args.graph, n), n.interval_ns, n.period, policy);
  st.kern = kind->make(n.params, kernel_context{n.id, n.interval_ns, n.period});
  std::string restore_failure;
  if (st.args.checkpoint) {
    // An unusable checkpoint must not kill the actor (its inputs would never be handled and
    // flow control would wait forever): the node starts FAILED with the reason instead.
    try {
      restore(st, from_msgpack(*st.args.checkpoint, checkpoint_limits()));
    } catch (const std::exception& e) {
      restore_failure = std::string("checkpoint cannot be restored: ") + e.what();
    }
  }
  for (std::size_t p = 0; p < st.cache->port_count(); ++p) {
    st.input.ports.push_back(&st.cache->ring(p));
    st.port_interval.push_back(
        n.is_stream() ? 0 : st.args.graph->nodes[n.inputs[p].upstream].interval_ns);
  }
  if (!restore_failure.empty()) fail(self, restore_failure);
  return {
      [=](event_atom, std::uint32_t port, std::uint64_t seq, std::int64_t ts, value_ptr v) {
        // By value: a paused node keeps the closure until it resumes.
        handle(self, [port, seq, ts, v](node_host_state& s) {
          ++s.events_in;
          s.cache->offer(port, seq, ts, v);
        });
      },
      [=](output_atom, std::uint32_t port, std::uint64_t seq, std::int64_t bucket, value_ptr v) {
        handle(self, [port, seq, bucket, v](node_host_state& s) {
          ++s.events_in;
          s.cache->offer(port, seq, bucket, v);
          s.cache->watermark(port, bucket + s.port_interval[port] - 1);
        });
      },
      [=](watermark_atom, std::uint32_t port, std::int64_t ts) {
        handle(self, [port, ts](node_host_state& s) { s.cache->watermark(port, ts); });
      },
      [=](checkpoint_atom) -> std::string { return to_msgpack(save(self->state)); },
      [=](window_atom) -> std::string { return to_msgpack(self->state.cache->save()); },
      [=](subscribe_atom, caf::actor a, std::uint32_t port) -> bool {
        self->state.args.subscribers.push_back({std::move(a), port});
        return true;
      },
      [=](unsubscribe_atom, const caf::actor& a) -> bool {
        auto& subs = self->state.args.subscribers;
        subs.erase(std::remove_if(subs.begin(), subs.end(),
                                  [&](const subscriber& s) { return s.actor == a; }),
                   subs.end());
        return true;
      },
      [=](names_atom, std::vector<std::string> names) -> bool {
        self->state.names = std::move(names);
        self->state.args.board->update(self->state.args.report,
                                       [&](node_report& r) { r.names = self->state.names; });
        return true;
      },
      [=](pause_atom, bool pause) -> bool {
        auto& s = self->state;
        s.paused = pause;
        if (!pause)
          while (!s.held.empty()) {  // catch up in arrival order
            auto next = std::move(s.held.front());
            s.held.pop_front();
            next();
          }
        s.args.board->update(s.args.report, [&](node_report& r) {
          r.paused = s.paused;
          r.held = s.held.size();
        });
        return s.paused;
      },
  };
}

}  // namespace

caf::actor spawn_node_host(caf::actor_system& sys, node_host_args args) {
  return sys.spawn(node_host, std::move(args));
}

}  // namespace shoal
