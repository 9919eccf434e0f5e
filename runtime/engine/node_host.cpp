#include "runtime/engine/node_host.hpp"

namespace shoal {
namespace {

struct node_host_state;
using node_actor = caf::stateful_actor<node_host_state>;

// The runner's outlet: sends to the subscribers, counted in flow control first.
class actor_outlet final : public node_outlet {
 public:
  actor_outlet(node_actor* self, std::vector<subscriber>& subs, flow_control& flow)
      : self_(self), subs_(subs), flow_(flow) {}
  void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                      std::int64_t received_ns) override;
  void forward_watermark(std::int64_t ts, std::int64_t received_ns) override;
  std::size_t backlog() const override;

 private:
  node_actor* self_;
  std::vector<subscriber>& subs_;
  flow_control& flow_;
};

struct node_host_state {
  std::vector<subscriber> subscribers;
  std::shared_ptr<flow_control> flow;
  std::unique_ptr<actor_outlet> outlet;
  node_runner_args spawned;  // what renew_atom starts again from
  std::unique_ptr<node_runner> runner;
  static inline const char* name = "shoal.node";
};

void actor_outlet::forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                                  std::int64_t received_ns) {
  flow_.sent(static_cast<std::int64_t>(subs_.size()));
  for (const auto& s : subs_)
    self_->send(s.actor, output_atom::value, s.port, seq, bucket, v, received_ns);
}

void actor_outlet::forward_watermark(std::int64_t ts, std::int64_t received_ns) {
  flow_.sent(static_cast<std::int64_t>(subs_.size()));
  for (const auto& s : subs_) self_->send(s.actor, watermark_atom::value, s.port, ts, received_ns);
}

std::size_t actor_outlet::backlog() const { return self_->mailbox().size(); }

caf::behavior node_host(node_actor* self, node_host_args args) {
  auto& st = self->state;
  st.subscribers = std::move(args.subscribers);
  st.flow = std::move(args.flow);
  st.outlet = std::make_unique<actor_outlet>(self, st.subscribers, *st.flow);
  {
    auto checkpoint = std::move(args.runner.checkpoint);  // not kept twice: renew names its own
    args.runner.checkpoint.reset();  // (a moved-from optional still holds a value)
    st.spawned = args.runner;
    args.runner.checkpoint = std::move(checkpoint);
  }
  st.runner = std::make_unique<node_runner>(std::move(args.runner), *st.outlet);
  // Every input is accounted for in flow control once handled (held ones too: a paused node
  // never stalls replay or shutdown; checkpoints wait for resume).
  auto done = [self] { self->state.flow->handled(); };
  return {
      [=](event_atom, std::uint32_t port, std::uint64_t seq, std::int64_t ts, value_ptr v,
          std::int64_t received_ns) {
        self->state.runner->event(port, seq, ts, std::move(v), received_ns);
        done();
      },
      [=](output_atom, std::uint32_t port, std::uint64_t seq, std::int64_t bucket, value_ptr v,
          std::int64_t received_ns) {
        self->state.runner->output(port, seq, bucket, std::move(v), received_ns);
        done();
      },
      [=](watermark_atom, std::uint32_t port, std::int64_t ts, std::int64_t received_ns) {
        self->state.runner->watermark(port, ts, received_ns);
        done();
      },
      [=](checkpoint_atom) -> std::string { return self->state.runner->checkpoint(); },
      [=](window_atom) -> std::string { return self->state.runner->window(); },
      [=](subscribe_atom, caf::actor a, std::uint32_t port) -> bool {
        self->state.subscribers.push_back({std::move(a), port});
        return true;
      },
      [=](unsubscribe_atom, const caf::actor& a) -> bool {
        auto& subs = self->state.subscribers;
        subs.erase(std::remove_if(subs.begin(), subs.end(),
                                  [&](const subscriber& s) { return s.actor == a; }),
                   subs.end());
        return true;
      },
      [=](names_atom, std::vector<std::string> names) -> bool {
        self->state.runner->set_names(std::move(names));
        return true;
      },
      [=](pause_atom, bool pause) -> bool {
        self->state.runner->pause(pause);
        return pause;
      },
      [=](restart_atom, bool fresh) -> bool {
        self->state.runner->restart(fresh);
        return true;
      },
      [=](warm_done_atom, std::vector<std::uint32_t> ports) -> bool {
        self->state.runner->warm_done(ports);
        return true;
      },
      [=](renew_atom, bool has_state, std::string& state) -> bool {
        node_runner_args a = self->state.spawned;
        if (has_state) a.checkpoint = std::move(state);
        // A FAILED state restored from the checkpoint it was spawned with is not this one's.
        a.board->update(a.report, [](node_report& r) {
          r.state = node_state::warming;
          r.reason.clear();
        });
        self->state.runner.reset();  // its report goes to the new one
        self->state.runner = std::make_unique<node_runner>(std::move(a), *self->state.outlet);
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_node_host(caf::actor_system& sys, node_host_args args) {
  return sys.spawn(node_host, std::move(args));
}

namespace {

class actor_inbox_impl final : public node_inbox {
 public:
  explicit actor_inbox_impl(caf::actor node) : node_(std::move(node)) {}
  void event(std::uint64_t seq, std::int64_t ts, value_ptr payload,
             std::int64_t received_ns) override {
    caf::anon_send(node_, event_atom::value, std::uint32_t{0}, seq, ts, std::move(payload),
                   received_ns);
  }
  void watermark(std::int64_t ts, std::int64_t received_ns) override {
    caf::anon_send(node_, watermark_atom::value, std::uint32_t{0}, ts, received_ns);
  }

 private:
  caf::actor node_;
};

}  // namespace

std::shared_ptr<node_inbox> actor_inbox(caf::actor node) {
  return std::make_shared<actor_inbox_impl>(std::move(node));
}

}  // namespace shoal
