// The node actor (node_host) under CAF's deterministic scheduler (test_coordinator): messages
// run when the test says so, on the test's thread, so what the shell does with each message —
// hand it to the runner, forward outputs, answer requests, account in flow control — is
// checked exactly, with no sleeps and no polling. The runner's own behaviour is covered without
// actors in tests/runtime/test_node_runner.cpp.
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include "messages/msgpack_codec.hpp"
#include "runtime/engine/node_host.hpp"
#include "runtime/graph/plan.hpp"
#include "tests/runtime/two_stream_graph.hpp"

using namespace shoal;

namespace {

constexpr std::int64_t s = 1'000'000'000;

struct sink_record {
  std::uint64_t seq;
  std::int64_t bucket;
  double value;
};

// A vwap join (window 1: its value is the price) over the shared two-stream graph.
std::shared_ptr<const plan> join_graph() {
  return testing::graph_with(R"(
[[node]]
name = "j"
kind = "vwap"
inputs = { price = "feed.a", volume = "feed.b" }
params = { window = 1 }
)");
}

double first_value(const Value& v) {
  const Value* values = v.find("values");
  return values->is_list() ? values->as_list()[0].as_double() : values->as_f64_vector()[0];
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<const plan> g = join_graph();
  std::shared_ptr<flow_control> flow = std::make_shared<flow_control>();
  std::shared_ptr<status_board> board = std::make_shared<status_board>();
  std::shared_ptr<std::vector<sink_record>> got = std::make_shared<std::vector<sink_record>>();
  caf::actor sink, node;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    // The downstream subscriber: records what the node forwards and hands it back to flow
    // control, as a downstream node would.
    auto got_ = got;
    auto flow_ = flow;
    // Spawned with an argument: CAF 0.17 dereferences a null argument tuple when a function
    // actor takes none (UBSan reports it).
    sink = sys->spawn(
        [got_, flow_](caf::event_based_actor*, int) -> caf::behavior {
          return {
              [got_, flow_](output_atom, std::uint32_t, std::uint64_t seq, std::int64_t bucket,
                            value_ptr v, std::int64_t) {
                got_->push_back({seq, bucket, first_value(*v)});
                flow_->handled();
              },
              [flow_](watermark_atom, std::uint32_t, std::int64_t, std::int64_t) {
                flow_->handled();
              },
          };
        },
        0);
    node = spawn_join();
  }
  ~fixture() {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    sched->run();
  }

  caf::actor spawn_join(std::optional<std::string> checkpoint = {}) {
    const std::size_t i = g->nodes.size() - 1;  // the declared node comes last
    node_report r;
    r.id = g->nodes[i].id;
    r.names = g->nodes[i].names;
    node_host_args a;
    a.runner.graph = g;
    a.runner.index = i;
    a.runner.board = board;
    a.runner.report = board->add(r);
    a.runner.checkpoint = std::move(checkpoint);
    a.subscribers = {{sink, 0}};
    a.flow = flow;
    return spawn_node_host(*sys, std::move(a));
  }
  // An upstream output of bucket k on port p, counted in flow control as the engine does.
  void feed(std::uint32_t port, std::int64_t k, double x) {
    flow->sent();
    caf::anon_send(node, output_atom::value, port, static_cast<std::uint64_t>(k + 1), k * s,
                   testing::vec(x), std::int64_t{0});
  }
  // Sends a request from a helper actor and runs until its answer is in.
  template <class T, class... Ts>
  T ask(const caf::actor& to, Ts... xs) {
    auto answer = std::make_shared<std::optional<T>>();
    sys->spawn(
        [=](caf::event_based_actor* self, int) {
          self->request(to, caf::infinite, xs...).then([=](T x) { *answer = std::move(x); });
        },
        0);
    sched->run();
    REQUIRE(answer->has_value());
    return std::move(**answer);
  }
};

}  // namespace

TEST_CASE("node actor: a bucket fires once both ports closed it, nothing runs until scheduled",
          "[node_host]") {
  fixture f;
  f.feed(0, 0, 10.0);
  f.feed(1, 0, 2.0);
  CHECK(f.got->empty());  // sent, not yet run
  CHECK(f.sched->run() > 0);
  REQUIRE(f.got->size() == 1);
  CHECK(f.got->at(0).seq == 1);
  CHECK(f.got->at(0).bucket == 0);
  CHECK(f.got->at(0).value == 10.0);
  f.feed(0, 1, 20.0);
  f.sched->run();
  CHECK(f.got->size() == 1);  // port 1 has not closed bucket 1
  f.feed(1, 1, 2.0);
  f.sched->run();
  REQUIRE(f.got->size() == 2);
  CHECK(f.got->at(1).seq == 2);
  CHECK(f.got->at(1).value == 20.0);
  // Every message sent was handled: inputs by the node, forwarded outputs by the sink.
  CHECK(f.flow->inflight() == 0);
}

TEST_CASE(
    "node actor: paused, inputs are held and counted as handled, then fire in order on resume",
    "[node_host]") {
  fixture f;
  CHECK(f.ask<bool>(f.node, pause_atom::value, true));
  for (std::int64_t k = 0; k < 3; ++k) {
    f.feed(0, k, 10.0 + double(k));
    f.feed(1, k, 1.0);
  }
  f.sched->run();
  CHECK(f.got->empty());
  CHECK(f.flow->inflight() == 0);  // a paused node never stalls replay or shutdown
  CHECK_FALSE(f.ask<bool>(f.node, pause_atom::value, false));
  REQUIRE(f.got->size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(f.got->at(k).seq == k + 1);
    CHECK(f.got->at(k).value == 10.0 + double(k));
  }
  CHECK(f.flow->inflight() == 0);
}

TEST_CASE(
    "node actor: a checkpoint asked over a message restores in a new actor that continues "
    "exactly",
    "[node_host]") {
  fixture f;
  for (std::int64_t k = 0; k < 2; ++k) {
    f.feed(0, k, 5.0);
    f.feed(1, k, 1.0);
  }
  f.sched->run();
  REQUIRE(f.got->size() == 2);
  const std::string state = f.ask<std::string>(f.node, checkpoint_atom::value);
  caf::anon_send_exit(f.node, caf::exit_reason::user_shutdown);
  f.node = f.spawn_join(state);
  f.feed(0, 2, 7.0);
  f.feed(1, 2, 1.0);
  f.sched->run();
  REQUIRE(f.got->size() == 3);
  CHECK(f.got->at(2).seq == 3);  // numbering continues from the checkpoint
  CHECK(f.got->at(2).bucket == 2 * s);
  CHECK(f.got->at(2).value == 7.0);
  CHECK(f.flow->inflight() == 0);
}
