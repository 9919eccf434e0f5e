#include "runtime/engine/node_host.hpp"

#include <spdlog/spdlog.h>

#include "actors/core/kind_registry.hpp"
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

  static inline const char* name = "shoal.node";
};

using node_actor = caf::stateful_actor<node_host_state>;

std::vector<port_spec> ports_of(const plan& g, const plan_node& n) {
  std::vector<port_spec> ports;
  if (n.is_stream()) {
    ports.push_back({"in", n.stream->one_per_bucket, n.stream->key});
    return ports;
  }
  for (const auto& in : n.inputs) {
    // An upstream of the same interval emits one value per bucket: its output closes the bucket.
    const bool same = g.nodes[in.upstream].interval_ns == n.interval_ns;
    ports.push_back({in.port, same, std::nullopt});
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
  for (const auto& name : st.spec->names) {
    out.node = name;
    st.args.pub->publish(name, encode_output(out));
  }
  for (const auto& s : st.args.subscribers)
    self->send(s.actor, output_atom::value, s.port, seq, bucket, v);
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
          v = st.kern->compute(st.input);
        } catch (const std::exception& e) {
          fail(self, std::string("kernel threw at bucket ") + std::to_string(ready->bucket) + ": " +
                         e.what());
          return;
        }
        emit(self, ready->bucket, std::move(v));
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
    r.notes.clear();
    for (const auto& [why, n] : st.kern->notes()) r.notes.emplace(why, n);
  });
}

caf::behavior node_host(node_actor* self, node_host_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.spec = &st.args.graph->nodes[st.args.index];
  const plan_node& n = *st.spec;
  const kind_info* kind = find_kind(n.kind);
  auto policy = parse_on_missing(n.on_missing).value_or(on_missing::skip);
  st.cache =
      std::make_unique<window_cache>(ports_of(*st.args.graph, n), n.interval_ns, n.period, policy);
  st.kern = kind->make(n.params, kernel_context{n.id, n.interval_ns, n.period});
  for (std::size_t p = 0; p < st.cache->port_count(); ++p) {
    st.input.ports.push_back(&st.cache->ring(p));
    st.port_interval.push_back(
        n.is_stream() ? 0 : st.args.graph->nodes[n.inputs[p].upstream].interval_ns);
  }
  return {
      [=](event_atom, std::uint32_t port, std::uint64_t seq, std::int64_t ts, value_ptr v) {
        auto& s = self->state;
        ++s.events_in;
        s.cache->offer(port, seq, ts, std::move(v));
        drain(self);
      },
      [=](output_atom, std::uint32_t port, std::uint64_t seq, std::int64_t bucket, value_ptr v) {
        auto& s = self->state;
        ++s.events_in;
        s.cache->offer(port, seq, bucket, std::move(v));
        s.cache->watermark(port, bucket + s.port_interval[port] - 1);
        drain(self);
      },
      [=](watermark_atom, std::uint32_t port, std::int64_t ts) {
        self->state.cache->watermark(port, ts);
        drain(self);
      },
  };
}

}  // namespace

caf::actor spawn_node_host(caf::actor_system& sys, node_host_args args) {
  return sys.spawn(node_host, std::move(args));
}

}  // namespace shoal
