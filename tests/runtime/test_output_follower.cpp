// output_follower against a real nats-server: a node's outputs read from its subject come each
// seq once and in seq order, whichever process stored them and however late: a seq stored after
// later ones is waited for and the later ones held; a seq stored twice, another node's output and
// bytes that are no output are skipped and counted; a follower from a seq seeks near it and goes
// on after it (reading the stream again from its start when the subject does not go on there,
// or when later seqs wait at its end); more later seqs than it holds is an output_gap naming the
// seq the subject lacks.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "messages/records.hpp"
#include "nats_server.hpp"
#include "runtime/cluster/output_follower.hpp"
#include "tcp_proxy.hpp"
#include "wait_for.hpp"

using namespace shoal;

namespace {

const std::string node_id(64, 'a');
const std::string other_id(64, 'b');

std::string output(std::uint64_t seq, const std::string& id = node_id) {
  return encode_output("n", id, static_cast<std::int64_t>(seq) * 1000, seq,
                       make_value(Value(static_cast<double>(seq) / 3)));
}

struct follow_fixture : shoal::testing::one_stream {
  follow_fixture() : one_stream("fo") {}

  // Stores the node's seqs on its subject, in this order, under ids made with `tag` (another
  // tag: another process's publish of the same seqs, or one retried after the duplicate window).
  void store(const std::vector<std::uint64_t>& seqs, const std::string& tag = "fo") {
    std::vector<std::string> bytes;
    bytes.reserve(seqs.size());  // the messages' views into it stay valid
    std::vector<outgoing_message> msgs;
    for (const std::uint64_t q : seqs) {
      bytes.push_back(output(q));
      msgs.push_back({tag + ":" + node_id + ":" + std::to_string(q), "", bytes.back()});
    }
    REQUIRE(link->publish(c.output_subject(node_id), msgs, 5000).stored == seqs.size());
  }
  void store_range(std::uint64_t from, std::uint64_t through) {
    std::vector<std::uint64_t> seqs;
    for (std::uint64_t q = from; q <= through; ++q) seqs.push_back(q);
    store(seqs);
  }
  // Another node's output on its own subject: the stream's last message is not the node's.
  void store_other(std::uint64_t seq) {
    const std::string bytes = output(seq, other_id);
    REQUIRE(link->publish(c.output_subject(other_id), {{"other:" + std::to_string(seq), "", bytes}},
                          5000)
                .stored == 1);
  }
};

// The next `n` outputs' seqs, each checked against the bytes stored for it.
std::vector<std::uint64_t> next_seqs(output_follower& f, std::size_t n) {
  std::vector<std::uint64_t> seqs;
  while (seqs.size() < n) {
    std::optional<Output> o;  // next() returns at its deadline also while it reads
    REQUIRE(test::wait_for([&] { return (o = f.next(200)).has_value(); }));
    CHECK(encode_output(o->node, o->id, o->bucket, o->seq, o->value) == output(o->seq));
    seqs.push_back(o->seq);
  }
  return seqs;
}

// Reads until `done` holds (nothing may come meanwhile), within the wait_for deadline.
template <class Done>
bool nothing_until(output_follower& f, Done done) {
  return test::wait_for([&] {
    REQUIRE_FALSE(f.next(50));
    return done();
  });
}

}  // namespace

TEST_CASE_METHOD(follow_fixture,
                 "an output follower hands on a node's seqs in order, waiting for one stored late",
                 "[cluster]") {
  // 3 missing (a batch stored in part), as the process that died within its resend left it.
  store({1, 2, 4, 5});
  store_other(1);
  output_follower f(*link, c, node_id, 0);
  CHECK(next_seqs(f, 2) == std::vector<std::uint64_t>{1, 2});
  REQUIRE(nothing_until(f, [&] { return f.held() == 2; }));
  CHECK(f.last() == 2);
  // The process that takes the node fills it at the subject's end.
  store({3}, "heir");
  CHECK(next_seqs(f, 3) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(f.held() == 0);
  // A seq stored twice (retried after the duplicate window), another node's output on this
  // subject, and bytes that are no output: skipped, counted, and the next seq still comes.
  store({4}, "late");
  const std::string foreign = output(6, other_id);
  REQUIRE(link->publish(c.output_subject(node_id), {{"x1", "", foreign}, {"x2", "", "junk"}}, 5000)
              .stored == 2);
  store({6});
  CHECK(next_seqs(f, 1) == std::vector<std::uint64_t>{6});
  CHECK(f.stats().delivered == 6);
  CHECK(f.stats().duplicates == 1);
  CHECK(f.stats().foreign == 1);
  CHECK(f.stats().undecodable == 1);
  CHECK(f.stats().rereads == 0);
}

// A seek that lands after seqs it should not skip: 1502..1600 stored before 101..1501 (a
// batch stored in part, sent again much later), so the seek for 1499 lands after them and the
// subject goes on at 1500 from there. The stream is read again from its start when, at the end,
// the subject holds more messages than the seqs handed on (the node idle), or later seqs wait.
TEST_CASE_METHOD(follow_fixture,
                 "an output follower reads the stream again for seqs stored before its seek",
                 "[cluster]") {
  store_range(1, 100);
  store_range(1502, 1600);
  store_range(101, 1501);
  std::vector<std::uint64_t> want;
  for (std::uint64_t q = 1502; q <= 1600; ++q) want.push_back(q);
  {  // Nothing after 1501 yet: the count tells.
    output_follower f(*link, c, node_id, 1499);
    CHECK(next_seqs(f, 2) == std::vector<std::uint64_t>{1500, 1501});
    CHECK(f.stats().rereads == 0);
    CHECK(next_seqs(f, want.size()) == want);
    CHECK(f.stats().rereads == 1);
    // The first read skipped 988..1499 (the seek's margin); the second, to its end, 1..100 and
    // 101..987, before where the first began, and not what the first read (988..1501) again.
    REQUIRE(nothing_until(f, [&] { return f.stats().duplicates >= (1499 - 987) + 100 + 887; }));
    CHECK(f.stats().duplicates == (1499 - 987) + 100 + 887);
    CHECK(f.stats().rereads == 1);
  }
  // 1601 stored after them: it waits, held, at the end of the first read.
  store({1601});
  output_follower g(*link, c, node_id, 1499);
  want.push_back(1601);
  CHECK(next_seqs(g, 2) == std::vector<std::uint64_t>{1500, 1501});
  CHECK(next_seqs(g, want.size()) == want);
  CHECK(g.stats().rereads == 1);
}

TEST_CASE_METHOD(follow_fixture, "an output follower from a seq seeks near it and goes on after it",
                 "[cluster]") {
  // Seqs 1..2000 in batches of 100, another node's output after each.
  for (std::uint64_t from = 1; from <= 2000; from += 100) {
    store_range(from, from + 99);
    store_other(from);
  }
  output_follower f(*link, c, node_id, 1500);
  CHECK(next_seqs(f, 3) == std::vector<std::uint64_t>{1501, 1502, 1503});
  CHECK(f.stats().rereads == 0);
  // Read from near 1500, not from the start: what it skipped is less than the subject before.
  CHECK(f.stats().duplicates < 1000);

  // At the subject's end, the next seq missing (2001 to be filled later): the first output
  // after the seek is not 2001, so the stream is read again from its start, once; then 2001
  // comes and the rest follows in order.
  output_follower g(*link, c, node_id, 2000);
  store({2002, 2003});
  REQUIRE(nothing_until(g, [&] { return g.stats().rereads == 1; }));
  store({2001}, "heir");
  CHECK(next_seqs(g, 3) == std::vector<std::uint64_t>{2001, 2002, 2003});
  CHECK(g.stats().rereads == 1);
  CHECK(g.stats().duplicates > 1000);  // the second read skipped the seqs before the seek too
}

TEST_CASE_METHOD(follow_fixture, "more later seqs than an output follower holds is an output_gap",
                 "[cluster]") {
  store({1, 3, 4, 5});
  output_follower f(*link, c, node_id, 0, 3);
  CHECK(next_seqs(f, 1) == std::vector<std::uint64_t>{1});
  REQUIRE(nothing_until(f, [&] { return f.held() == 3; }));  // still waited for
  store({6});
  try {
    f.next(5000);
    FAIL("no output_gap");
  } catch (const output_gap& e) {
    CHECK(e.seq == 2);
    CHECK_THAT(e.what(), Catch::Contains("lacks seq 2") && Catch::Contains("4 later seqs"));
  }
}

// The follower's connection lost while outputs are stored (a network that stops carrying its
// bytes): once the client reconnects, it goes on with them, in order, none twice.
TEST_CASE_METHOD(follow_fixture, "an output follower goes on after its connection was lost",
                 "[cluster]") {
  shoal::testing::tcp_proxy proxy{s.port};
  cluster_decl via = c;
  via.servers = {proxy.url()};
  jetstream_link far(via, "test follower");
  store_range(1, 3);
  output_follower f(far, c, node_id, 0);
  CHECK(next_seqs(f, 3) == std::vector<std::uint64_t>{1, 2, 3});
  proxy.lose();
  store_range(4, 6);
  int polls = 0;  // nothing comes while it is lost (a second of polls)
  REQUIRE(nothing_until(f, [&] { return ++polls == 20; }));
  proxy.restore();  // its connection closed: the client connects again
  store_range(7, 8);
  CHECK(next_seqs(f, 5) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});
  // The client counts its reconnect in a callback of its own thread, maybe after the reads.
  CHECK(test::wait_for([&] { return far.reconnects() > 0; }));
  CHECK(f.stats().duplicates == 0);
}
