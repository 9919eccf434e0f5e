// node_runner driven directly, bucket by bucket, with no actors and no threads: firing,
// on_missing (skip, ffill, fail), watermarks forwarded, pause and resume, checkpoints, failures
// that survive a checkpoint, restarts and warm starts.
#include <catch2/catch.hpp>

#include "messages/msgpack_codec.hpp"
#include "runtime/engine/node_runner.hpp"
#include "runtime/graph/plan.hpp"
#include "tests/runtime/two_stream_graph.hpp"

using namespace shoal;
using shoal::testing::graph_with;
using shoal::testing::vec;

namespace {

constexpr std::int64_t s = 1'000'000'000;

struct recorded {
  std::uint64_t seq;
  std::int64_t bucket;
  std::string value;  // msgpack, to compare exactly
};

class recording_outlet final : public node_outlet {
 public:
  void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                      std::int64_t received_ns) override {
    outputs.push_back({seq, bucket, to_msgpack(*v)});
    received.push_back(received_ns);
  }
  void forward_watermark(std::int64_t ts, std::int64_t received_ns) override {
    watermarks.push_back(ts);
    received.push_back(received_ns);
  }
  std::vector<recorded> outputs;
  std::vector<std::int64_t> watermarks;
  std::vector<std::int64_t> received;  // of each output and watermark, in order
};

const char* vwap_join(const char* on_missing) {
  static std::string text;
  text = std::string(R"(
[[node]]
name = "j"
kind = "vwap"
inputs = { price = "feed.a", volume = "feed.b" }
params = { window = 1 }
on_missing = ")") +
         on_missing + "\"\n";
  return text.c_str();
}

struct harness {
  std::shared_ptr<const plan> g;
  std::shared_ptr<status_board> board = std::make_shared<status_board>();
  std::shared_ptr<node_report> report;
  recording_outlet out;
  std::unique_ptr<node_runner> runner;

  explicit harness(std::shared_ptr<const plan> graph, std::optional<std::string> cp = {},
                   bool warming = false, std::uint64_t seq_after = 0,
                   std::shared_ptr<stage_latency> latency = nullptr, std::uint32_t report_every = 1)
      : g(std::move(graph)) {
    const std::size_t i = g->nodes.size() - 1;  // the declared node comes last
    node_report r;
    r.id = g->nodes[i].id;
    r.names = g->nodes[i].names;
    report = board->add(r);
    node_runner_args a;
    a.graph = g;
    a.index = i;
    a.board = board;
    a.report = report;
    a.checkpoint = std::move(cp);
    a.warming = warming;
    a.seq_after = seq_after;
    a.latency = std::move(latency);
    a.report_every = report_every;
    runner = std::make_unique<node_runner>(std::move(a), out);
  }
  node_report rep() const { return board->snapshot().front(); }
  // Stream outputs of bucket k on port p (one per bucket: closes it).
  void feed(std::uint32_t port, std::int64_t k, double x) {
    runner->output(port, static_cast<std::uint64_t>(k + 1), k * s, vec(x));
  }
};

double value_of(const recorded& r) {
  const Value v = from_msgpack(r.value);
  const Value* values = v.find("values");
  return values->is_list() ? values->as_list()[0].as_double() : values->as_f64_vector()[0];
}

}  // namespace

TEST_CASE("a join fires each bucket once both inputs closed it, and forwards its progress",
          "[node_runner]") {
  harness h(graph_with(vwap_join("skip")));
  h.feed(0, 0, 10.0);
  CHECK(h.out.outputs.empty());  // the volume port has not closed bucket 0
  h.feed(1, 0, 2.0);
  REQUIRE(h.out.outputs.size() == 1);
  CHECK(h.out.outputs[0].seq == 1);
  CHECK(value_of(h.out.outputs[0]) == 10.0);
  CHECK(h.out.watermarks.empty());  // the output itself tells subscribers bucket 0 is done
  // A bucket that closes with nothing in it: subscribers learn it from a watermark.
  h.runner->watermark(0, 2 * s - 1);
  CHECK(h.out.watermarks.empty());  // not until both inputs passed it
  h.runner->watermark(1, 2 * s - 1);
  REQUIRE(h.out.watermarks.size() == 1);
  CHECK(h.out.watermarks[0] == 2 * s - 1);
  CHECK(h.out.outputs.size() == 1);
  CHECK(h.rep().state == node_state::running);
}

TEST_CASE("a firing counts its latency from the receipt of the input that closed the bucket",
          "[node_runner]") {
  auto latency = std::make_shared<stage_latency>();
  harness h(graph_with(vwap_join("skip")), {}, false, 0, latency);
  const std::int64_t price_received = stage_latency::now_ns() - 2'000'000;  // 2 ms ago
  const std::int64_t volume_received = stage_latency::now_ns() - 20'000'000;
  h.runner->output(0, 1, 0, vec(10.0), price_received);
  CHECK(latency->snapshot(latency_stage::fire).count() == 0);  // bucket 0 not closed yet
  h.runner->output(1, 1, 0, vec(2.0), volume_received);
  REQUIRE(h.out.outputs.size() == 1);
  // The volume closed the bucket: its receipt travels on with the output, and both stages count
  // from it (20 ms ago lands in the bucket up to 25 ms, whatever this machine's speed).
  CHECK(h.out.received == std::vector<std::int64_t>{volume_received});
  for (auto stage : {latency_stage::fire, latency_stage::encode}) {
    const auto hist = latency->snapshot(stage);
    CHECK(hist.count() == 1);
    CHECK(hist.quantile_bound(1.0) == 0.025);
    CHECK(hist.sum_s >= 0.02);
  }
  CHECK(latency->snapshot(latency_stage::ingest).count() == 0);
  CHECK(latency->snapshot(latency_stage::send).count() == 0);  // no publisher here
  // Input with no receipt (replay, catch-up) closes buckets without counting.
  h.runner->output(0, 2, s, vec(11.0));
  h.runner->output(1, 2, s, vec(1.0));
  REQUIRE(h.out.outputs.size() == 2);
  CHECK(h.out.received.back() == 0);
  CHECK(latency->snapshot(latency_stage::fire).count() == 1);
}

TEST_CASE("on_missing: skip leaves a bucket out, ffill carries the last value, fail fails",
          "[node_runner]") {
  auto run = [](const char* policy) {
    auto h = std::make_unique<harness>(graph_with(vwap_join(policy)));
    h->feed(0, 0, 10.0);
    h->feed(1, 0, 2.0);
    h->feed(0, 1, 11.0);
    h->runner->watermark(1, 2 * s - 1);  // volume has nothing in bucket 1
    h->feed(0, 2, 12.0);
    h->feed(1, 2, 4.0);
    return h;
  };
  auto skip = run("skip");
  REQUIRE(skip->out.outputs.size() == 2);
  CHECK(skip->out.outputs[1].bucket == 2 * s);
  CHECK(skip->rep().missing == 1);

  auto ffill = run("ffill");
  REQUIRE(ffill->out.outputs.size() == 3);
  CHECK(ffill->out.outputs[1].bucket == s);
  CHECK(value_of(ffill->out.outputs[1]) == 11.0);

  auto fail = run("fail");
  CHECK(fail->runner->failed());
  CHECK(fail->out.outputs.size() == 1);
  CHECK(fail->rep().state == node_state::failed);
  CHECK_THAT(fail->rep().reason, Catch::Matchers::Contains("'volume'"));
  // FAILED, its window keeps up: bucket 2 passed without being computed...
  CHECK(fail->rep().notes.at("skipped_while_failed") == 1);
  // ...and a restart continues with the next bucket.
  fail->runner->restart(false);
  fail->feed(0, 3, 13.0);
  fail->feed(1, 3, 1.0);
  REQUIRE(fail->out.outputs.size() == 2);
  CHECK(fail->out.outputs[1].bucket == 3 * s);
  CHECK(fail->out.outputs[1].seq == 2);
  CHECK(fail->rep().state == node_state::running);
}

TEST_CASE("a paused node holds its inputs and catches up in order on resume", "[node_runner]") {
  harness h(graph_with(vwap_join("skip")));
  h.runner->pause(true);
  for (int k = 0; k < 3; ++k) {
    h.feed(0, k, 10.0 + k);
    h.feed(1, k, 1.0);
  }
  CHECK(h.out.outputs.empty());
  CHECK(h.rep().held == 6);
  CHECK(h.rep().paused);
  h.runner->pause(false);
  REQUIRE(h.out.outputs.size() == 3);
  for (int k = 0; k < 3; ++k) CHECK(value_of(h.out.outputs[k]) == 10.0 + k);
  CHECK(h.rep().held == 0);
}

// An inline replay's runners report every 64 messages; its end reports every runner.
TEST_CASE("report_every: the board follows every n-th message, and report_all brings it up to date",
          "[node_runner]") {
  harness h(graph_with(vwap_join("skip")), {}, false, 0, nullptr, 64);
  for (int k = 0; k < 32; ++k) {  // 64 messages: only the first was reported
    h.feed(0, k, 10.0 + k);
    h.feed(1, k, 1.0);
  }
  REQUIRE(h.out.outputs.size() == 32);
  CHECK(h.rep().outputs == 0);
  CHECK(h.rep().events_in == 1);
  h.feed(0, 32, 42.0);  // the 65th
  CHECK(h.rep().outputs == 32);
  CHECK(h.rep().last_seq == 32);
  CHECK(h.rep().events_in == 65);
  CHECK(h.rep().state == node_state::running);
  h.feed(1, 32, 1.0);
  REQUIRE(h.out.outputs.size() == 33);
  CHECK(h.rep().outputs == 32);
  h.runner->report_all();
  CHECK(h.rep().outputs == 33);
  CHECK(h.rep().last_seq == 33);
  REQUIRE(h.rep().last_value);
  CHECK(to_msgpack(*h.rep().last_value) == h.out.outputs.back().value);
}

TEST_CASE("a checkpoint restores a node that continues exactly like the original",
          "[node_runner]") {
  const char* ema = R"(
[[node]]
name = "e"
kind = "ema"
inputs = { in = "feed.a" }
params = { span = 4 }
)";
  auto g = graph_with(ema);
  harness a(g);
  for (int k = 0; k < 6; ++k) a.feed(0, k, 1.0 + k * k);
  harness b(g, a.runner->checkpoint());
  CHECK(b.rep().outputs == 6);
  for (int k = 6; k < 10; ++k) {
    a.feed(0, k, 1.0 + k * k);
    b.feed(0, k, 1.0 + k * k);
  }
  REQUIRE(b.out.outputs.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(b.out.outputs[i].seq == a.out.outputs[6 + i].seq);
    CHECK(b.out.outputs[i].value == a.out.outputs[6 + i].value);
  }
}

TEST_CASE("a failure and its reason survive a checkpoint", "[node_runner]") {
  auto g = graph_with(vwap_join("fail"));
  harness a(g);
  a.feed(0, 0, 10.0);
  a.runner->watermark(1, s - 1);
  REQUIRE(a.runner->failed());
  harness b(g, a.runner->checkpoint());
  CHECK(b.runner->failed());
  CHECK(b.rep().state == node_state::failed);
  CHECK_THAT(a.rep().reason, Catch::Matchers::Contains("'volume'"));
  CHECK(b.rep().reason == a.rep().reason);
}

TEST_CASE("a warm start computes without numbering, then continues after the stored seqs",
          "[node_runner]") {
  harness h(graph_with(vwap_join("skip")), std::nullopt, /*warming=*/true, /*seq_after=*/40);
  for (int k = 0; k < 3; ++k) {
    h.feed(0, k, 10.0);
    h.feed(1, k, 1.0);
  }
  CHECK(h.out.outputs.size() == 3);  // forwarded (to other warming nodes) with their own seqs
  CHECK(h.rep().outputs == 40);
  CHECK(h.rep().state == node_state::warming);
  h.runner->warm_done({});
  CHECK(h.rep().state == node_state::running);
  h.feed(0, 3, 10.0);
  h.feed(1, 3, 1.0);
  REQUIRE(h.out.outputs.size() == 4);
  CHECK(h.out.outputs.back().seq == 41);
}
