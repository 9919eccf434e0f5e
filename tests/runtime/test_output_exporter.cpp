// [cluster] stream_outputs against a real nats-server: the exporter puts a node's stored outputs
// on its subject in seq order with ids <engine>:<NodeID>:<seq>; a process that starts exporting
// a node goes on from the subject's end; one that sends seqs already there (a moved node's old
// process) adds nothing; a subject that ends before what a process holds waits for the missing
// seqs, then goes on past them and counts them; a node dropped is exported no more; a stop
// drains what is stored (also what a pass in progress did not read); an output larger than the
// servers take is left out, not tried for ever; an output goes only once the stream holds the
// journal records before it; a node given away goes until the stream holds it through the seq its
// new process goes on from; a node given back or dropped and taken again (also within one pass)
// reads its subject's end again; a node dropped while its batch fails (its connection lost
// through a proxy) sends that batch once the cluster answers, and one given back meanwhile reads
// its subject's end after it; a process taking a node sends the seqs missing below its
// subject's end that it holds, and counts those it lacks as gaps.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "messages/records.hpp"
#include "nats_server.hpp"
#include "runtime/cluster/output_exporter.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"
#include "tcp_proxy.hpp"
#include "wait_for.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::nats_server;
using shoal::testing::tcp_proxy;
using shoal::testing::temp_dir;

namespace {

const std::string node_id(64, 'e');

cluster_decl decl(const nats_server& s) { return shoal::testing::one_server_cluster(s, "ex"); }

// The output seq `seq` of the node, in bucket seq * 1000: the same bytes in every store
// (`text`: a string value instead of a number).
std::string output(std::uint64_t seq, const std::string& text = {}) {
  return encode_output(
      "n", node_id, static_cast<std::int64_t>(seq) * 1000, seq,
      make_value(text.empty() ? Value(static_cast<double>(seq) / 7) : Value(text)));
}

// A data dir holding outputs `from`..`through` of the node.
struct dir_with_outputs {
  temp_dir dir;
  store db{dir.path().string()};
  store_writer writer{db};
  void add(std::uint64_t from, std::uint64_t through, const std::string& text = {}) {
    for (std::uint64_t s = from; s <= through; ++s)
      writer.put_output(node_id, static_cast<std::int64_t>(s) * 1000, output(s, text));
    writer.flush();
  }
};

// Every message on the node's subject, in stream order (none for 300 ms: the end).
std::vector<stored_message> subject_of_node(jetstream_link& link, const cluster_decl& c) {
  std::vector<stored_message> all;
  auto r = link.open_reader(c.stream, c.output_subject(node_id), 1);
  while (auto m = r->next(300)) all.push_back(std::move(*m));
  return all;
}

// The subject holds seqs 1..n, each once, with the bytes every store holds.
void check_subject(jetstream_link& link, const cluster_decl& c, std::uint64_t n) {
  const auto all = subject_of_node(link, c);
  REQUIRE(all.size() == n);
  for (std::uint64_t s = 1; s <= n; ++s) {
    CHECK(all[s - 1].msg_id == "ex:" + node_id + ":" + std::to_string(s));
    CHECK(all[s - 1].data == output(s));
  }
}

std::uint64_t last_seq_in_stream(jetstream_link& link, const cluster_decl& c) {
  const auto m = link.last_message(c.stream, c.output_subject(node_id), false);
  return m ? decode_output(m->data).seq : 0;
}

// c, reaching its server through `proxy`.
cluster_decl through(cluster_decl c, const tcp_proxy& proxy) {
  c.servers = {proxy.url()};
  return c;
}

// A server, and an exporter that sent outputs 1..3 of the node, stored in `a`. The exporter
// reaches the server through `proxy` (a test may lose its connection), the test's link directly.
struct sent_three {
  nats_server s;
  tcp_proxy proxy{s.port};
  std::unique_ptr<jetstream_link> link = connect(s);
  cluster_decl c = decl(s);
  dir_with_outputs a;
  output_exporter ex{through(c, proxy), a.db};
  sent_three() {
    a.add(1, 3);
    ex.export_nodes({node_id});
    REQUIRE(test::wait_for([&] { return ex.stats().sent == 3; }, std::chrono::seconds(20)));
  }
  // The exporter's connection lost, outputs 4..through stored: a batch of them failed.
  void fail_a_batch(std::uint64_t through) {
    proxy.lose();
    a.add(4, through);
    REQUIRE(test::wait_for([&] { return ex.stats().failures > 0; }, std::chrono::seconds(20)));
  }
};

}  // namespace

TEST_CASE("the outputs of a node go to its subject once and in order, wherever they come from",
          "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  using std::chrono::milliseconds;
  using test::wait_for;

  // Process A holds seqs 1..300: all go, in batches.
  dir_with_outputs a;
  a.add(1, 300);
  output_exporter ea(c, a.db, {}, milliseconds(800));
  CHECK(ea.stats().sent == 0);  // nothing until it is told which nodes it publishes
  ea.export_nodes({node_id});
  REQUIRE(wait_for([&] { return ea.stats().sent == 300; }, std::chrono::seconds(20)));
  check_subject(*link, c, 300);
  CHECK(ea.stats().nodes == 1);

  // Process B, which computed the node too (seqs 1..400), takes it over: only 301..400 go.
  dir_with_outputs b;
  b.add(1, 400);
  output_exporter eb(c, b.db, {}, milliseconds(800));
  eb.export_nodes({node_id});
  REQUIRE(wait_for([&] { return eb.stats().sent == 100; }, std::chrono::seconds(20)));
  CHECK(eb.stats().duplicates == 0);

  // A, not told yet that the node moved, stores 301..450 and sends them: what B sent is stored
  // once, the rest goes on after it.
  a.add(301, 450);
  REQUIRE(wait_for([&] { return ea.stats().sent == 450; }, std::chrono::seconds(20)));
  CHECK(ea.stats().duplicates == 100);
  check_subject(*link, c, 450);
  CHECK(ea.stats().behind == 0);

  // Process C holds only seqs 460..470 (a checkpoint after 459): it waits for the missing ones,
  // which A sends meanwhile, then has nothing to add.
  dir_with_outputs d3;
  d3.add(460, 470);
  output_exporter ec(c, d3.db, {}, milliseconds(5000));
  ec.export_nodes({node_id});
  REQUIRE(wait_for([&] { return ec.stats().behind == 11; }, std::chrono::seconds(10)));
  CHECK(ec.stats().sent == 0);
  a.add(451, 470);
  REQUIRE(wait_for([&] { return last_seq_in_stream(*link, c) == 470; }, std::chrono::seconds(20)));
  REQUIRE(wait_for([&] { return ec.stats().behind == 0; }, std::chrono::seconds(10)));
  CHECK(ec.stats().sent == 0);
  CHECK(ec.stats().gaps == 0);
  check_subject(*link, c, 470);

  // A and B drop the node; C goes on alone. Its next outputs start at 480: nobody sends
  // 471..479, so after the wait it goes on past them and counts them.
  ea.export_nodes({});
  eb.export_nodes({});
  CHECK(ea.stats().nodes == 0);
  // A pass that began before may still hold the node: two passes later none does.
  const std::uint64_t passes = ea.stats().passes;
  REQUIRE(wait_for([&] { return ea.stats().passes >= passes + 2; }));
  a.add(471, 475);  // A no longer sends: the stream ends at 470 until C goes on
  d3.add(480, 485);
  const auto stored_at = std::chrono::steady_clock::now();
  // It waits first, the whole wait from this gap on (not from the one before).
  REQUIRE(wait_for([&] { return ec.stats().behind == 6; }, std::chrono::seconds(10)));
  CHECK(ec.stats().gaps == 0);
  REQUIRE(wait_for([&] { return ec.stats().gaps == 9; }, std::chrono::seconds(20)));
  CHECK(std::chrono::steady_clock::now() - stored_at >= milliseconds(5000));
  REQUIRE(wait_for([&] { return last_seq_in_stream(*link, c) == 485; }, std::chrono::seconds(20)));
  const auto all = subject_of_node(*link, c);
  REQUIRE(all.size() == 476);
  CHECK(decode_output(all[469].data).seq == 470);
  CHECK(decode_output(all[470].data).seq == 480);  // A's 471..475 never went

  // A stop sends what is stored first.
  d3.add(486, 900);
  CHECK(ec.stop(std::chrono::seconds(20)));
  CHECK(last_seq_in_stream(*link, c) == 900);
  CHECK(subject_of_node(*link, c).size() == 476 + 415);
}

TEST_CASE("an output larger than the servers take is left out of the stream, counted as a gap",
          "[cluster]") {
  nats_server s("max_payload: 4096");
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs a;
  a.add(1, 2);
  a.add(3, 3, std::string(5000, 'x'));
  // Under the limit alone, over it with its message id's header: left out too (sent, it would
  // be refused every time).
  std::string near(3800, 'y');
  while (output(4, near).size() < 4096 - 40) near += 'y';
  REQUIRE(output(4, near).size() <= 4096);
  a.add(4, 4, near);
  a.add(5, 6);
  output_exporter ex(c, a.db);
  ex.export_nodes({node_id});
  REQUIRE(
      test::wait_for([&] { return last_seq_in_stream(*link, c) == 6; }, std::chrono::seconds(20)));
  REQUIRE(test::wait_for([&] { return ex.stats().sent == 4; }));
  const auto all = subject_of_node(*link, c);
  REQUIRE(all.size() == 4);
  CHECK(decode_output(all[1].data).seq == 2);
  CHECK(decode_output(all[2].data).seq == 5);
  CHECK(ex.stats().gaps == 2);
}

TEST_CASE("a gap is waited out while the process makes the outputs before it (a backfill)",
          "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs a;
  a.add(5, 10);  // a heir's dir: its checkpoint came after seq 4
  output_exporter ex(c, a.db, {}, std::chrono::milliseconds(300));
  ex.export_nodes({node_id}, {node_id});
  // Far past the 300 ms wait: still waiting, nothing sent, no gap.
  const std::uint64_t passes = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= passes + 30; }));
  CHECK(ex.stats().behind == 6);
  CHECK(ex.stats().sent == 0);
  CHECK(ex.stats().gaps == 0);
  a.add(1, 4);  // the backfill stored them
  REQUIRE(test::wait_for([&] { return ex.stats().sent == 10; }, std::chrono::seconds(20)));
  check_subject(*link, c, 10);
  CHECK(ex.stats().gaps == 0);
}

// A stop that meets a cluster that does not answer closes the connection after its drain: a
// read of a subject's end in progress fails at once instead of waiting its 5 s.
TEST_CASE("a stop ends with a cluster that does not answer, and says what it did not send",
          "[cluster]") {
  sent_three t;
  auto& [s, proxy, link, c, a, ex] = t;
  ::kill(s.pid, SIGSTOP);  // the server is frozen
  // A second node: the exporter asks where its subject ends, and waits for the answer.
  const std::string other(64, 'f');
  a.writer.put_output(other, 1000, encode_output("o", other, 1000, 1, make_value(Value(1.0))));
  a.writer.flush();
  ex.export_nodes({node_id, other});
  const std::uint64_t passes = ex.stats().passes;
  // The pass that asks does not end while the server is frozen.
  CHECK_FALSE(test::wait_for([&] { return ex.stats().passes > passes + 1; },
                             std::chrono::milliseconds(500)));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(ex.stop(std::chrono::milliseconds(300)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  ::kill(s.pid, SIGCONT);
}

// The engine stops the exporter after its store writer: a pass begun before the stop may have
// read the data dir before the last commit, and finds nothing left of what it read.
TEST_CASE("a stop drains what was stored while a pass that read before it was sending",
          "[cluster]") {
  sent_three t;
  auto& [s, proxy, link, c, a, ex] = t;
  ::kill(s.pid, SIGSTOP);  // a pass's send waits for its acknowledgements
  a.add(4, 5);
  const std::uint64_t passes = ex.stats().passes;
  // A pass reads 4..5 (within pass_every) and does not end while the server is frozen.
  CHECK_FALSE(test::wait_for([&] { return ex.stats().passes > passes + 1; },
                             std::chrono::milliseconds(500)));
  a.add(6, 7);  // the last commit, after that pass's read
  std::thread wake_server([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the stop has begun
    ::kill(s.pid, SIGCONT);
  });
  CHECK(ex.stop(std::chrono::seconds(20)));
  wake_server.join();
  check_subject(*link, c, 7);
}

TEST_CASE("an output goes to the stream only once the journal before it is there", "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs a;
  for (int i = 0; i < 10; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(1, 3);  // made from those 10 records
  std::atomic<std::uint64_t> replicated{4};
  output_exporter ex(c, a.db, [&] { return replicated.load(); });
  ex.export_nodes({node_id});
  const std::uint64_t passes = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= passes + 5; }));
  CHECK(ex.stats().behind > 0);
  CHECK(ex.stats().sent == 0);
  // Under a steady feed the journal goes on, and the outputs held go once the stream holds the
  // journal as it was when they were read, not the journal's end now.
  for (int i = 10; i < 20; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(4, 6);
  replicated = 10;
  REQUIRE(test::wait_for([&] { return ex.stats().sent >= 3; }, std::chrono::seconds(20)));
  CHECK(last_seq_in_stream(*link, c) == 3);
  replicated = 20;
  REQUIRE(test::wait_for([&] { return ex.stats().sent == 6; }, std::chrono::seconds(20)));
  check_subject(*link, c, 6);

  // A stop while outputs are held drains them and those stored after them.
  for (int i = 20; i < 30; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(7, 9);
  const std::uint64_t held_at = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= held_at + 3; }));
  CHECK(ex.stats().behind > 0);
  a.add(10, 12);  // no new journal record: made from what the stream lacks still
  std::thread late([&] {
    const std::uint64_t p = ex.stats().passes;  // the stop has begun draining, or will soon
    test::wait_for([&] { return ex.stats().passes >= p + 3; });
    replicated = 30;
  });
  CHECK(ex.stop(std::chrono::seconds(20)));
  late.join();
  check_subject(*link, c, 12);
}

TEST_CASE(
    "a lagging replication: held outputs are not read again at every recheck, and the "
    "batches held per node stay bounded",
    "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs a;
  for (int i = 0; i < 10; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(1, 3);
  std::atomic<std::uint64_t> replicated{4};
  output_exporter ex(c, a.db, [&] { return replicated.load(); });
  ex.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return ex.stats().holds == 1; }));
  // Passes every held_recheck (5 ms), a whole one every pass_every (50 ms): only the whole ones
  // read the node's outputs.
  const output_export_stats before = ex.stats();
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= before.passes + 40; }));
  const output_export_stats after = ex.stats();
  CHECK((after.reads - before.reads) * 2 < after.passes - before.passes);
  CHECK(after.behind == 3);  // what the last read found held

  // A journal that goes on while the cluster is away: each whole pass finds newer outputs and
  // holds them, up to max_holds batches; the newest then takes the later ones in.
  const auto wake = ex.waker();
  std::uint64_t seq = 3, journal = 10;
  for (; seq < 3 + output_exporter::max_holds + 20; ++journal) {
    a.writer.append_journal("record " + std::to_string(journal));
    ++seq;
    a.add(seq, seq);
    const std::uint64_t p = ex.stats().passes;
    wake(0);
    REQUIRE(test::wait_for([&] { return ex.stats().passes > p + 1; }));
    REQUIRE(ex.stats().holds <= output_exporter::max_holds);
  }
  CHECK(ex.stats().holds == output_exporter::max_holds);
  CHECK(ex.stats().sent == 0);
  // The stream holds the journal again: every output goes, in order.
  replicated = journal;
  wake(0);
  REQUIRE(test::wait_for([&] { return ex.stats().sent == seq; }, std::chrono::seconds(20)));
  CHECK(test::wait_for([&] { return ex.stats().holds == 0; }));  // counted at the pass's end
  check_subject(*link, c, seq);
}

// A node given to another process (a move, a give to a standby joining): the process that
// gave it exports what it stored through the seq the other one publishes after, and no further
// (sent after the duplicate window, the seqs beyond would be stored twice); then it says so
// (given_through), holds nothing of it, and a stop has nothing of it to drain. Given back, it
// goes on from the subject's end, wherever the other process took it. Given away before it made
// every seq it owes, it reads the subject's end again until the other process sent them, once it
// holds nothing the stream may lack.
TEST_CASE("a node given away goes to the stream through the seq the other process goes on from",
          "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  using map = std::map<std::string, std::uint64_t>;
  dir_with_outputs a;
  for (int i = 0; i < 10; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(1, 20);  // made from those 10 records
  std::atomic<std::uint64_t> replicated{10};
  output_exporter ex(c, a.db, [&] { return replicated.load(); });
  ex.export_nodes({node_id}, {}, {{node_id, 15}});
  REQUIRE(test::wait_for([&] { return !ex.given_through().empty(); }, std::chrono::seconds(20)));
  CHECK(ex.given_through() == map{{node_id, 15}});
  check_subject(*link, c, 15);
  // Stored after, from records the stream holds: not its to send (were it still its node, they
  // would go at once).
  for (int i = 10; i < 20; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(21, 30);
  replicated = 20;
  const std::uint64_t passes = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= passes + 5; }));
  CHECK(last_seq_in_stream(*link, c) == 15);
  CHECK(ex.stats().behind == 0);
  CHECK(ex.stats().holds == 0);

  // The process it went to sends 16..40; given back, this one reads the subject's end again and
  // has nothing to add (without reading it, it would send 16..30 again).
  dir_with_outputs b;
  b.add(1, 40);
  output_exporter eb(c, b.db);
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 40; }));
  ex.export_nodes({node_id});
  a.add(31, 45);  // made from records the stream holds
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 45; }));
  eb.export_nodes({});
  CHECK(ex.stats().duplicates == 0);
  check_subject(*link, c, 45);

  // Given away again with outputs held (records the stream lacks), owing more than it made.
  for (int i = 20; i < 30; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(46, 48);
  const std::uint64_t again = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= again + 3; }));
  CHECK(ex.stats().holds > 0);
  ex.export_nodes({node_id}, {}, {{node_id, 50}});
  // The other process sends 41..50: while this one holds outputs the stream may lack (it cannot
  // know without reading every seq), it is not done, whatever the subject's end says.
  b.add(41, 50);
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 50; }));
  const std::uint64_t sent_by_b = ex.stats().passes;
  // 1.5 s of 5 ms rechecks at least: past the second between two reads of the subject's end.
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= sent_by_b + 300; },
                         std::chrono::seconds(20)));
  CHECK(ex.given_through().empty());
  CHECK(ex.stats().holds > 0);
  // The stream gets the records: the held ones go (stored already: duplicates), then, with
  // nothing more to send, it reads the subject's end and is done. Nothing of it is held then,
  // nor drained at a stop.
  replicated = 30;
  REQUIRE(test::wait_for(
      [&] {
        return ex.given_through() == map{{node_id, 50}};
      },
      std::chrono::seconds(20)));
  REQUIRE(test::wait_for([&] { return ex.stats().holds == 0; }));  // counted at a pass's end
  CHECK(ex.stats().duplicates == 3);
  CHECK(ex.stop(std::chrono::seconds(5)));
  check_subject(*link, c, 50);
}

// A node given away and given back while one pass runs (it waits on the cluster): the next pass
// reads the subject's end again all the same (the process it went to may have sent past it).
TEST_CASE("a node given away and back within one pass reads its subject's end again", "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs a;
  for (int i = 0; i < 10; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(1, 5);  // made from those 10 records
  std::atomic<std::uint64_t> replicated{10};
  // A pass asks for the journal's replication first: holding that answer holds the pass.
  std::atomic<bool> hold_pass{false}, pass_held{false};
  output_exporter ex(c, a.db, [&] {
    while (hold_pass) {
      pass_held = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return replicated.load();
  });
  ex.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 5; }));
  for (int i = 10; i < 20; ++i) a.writer.append_journal("record " + std::to_string(i));
  a.add(6, 10);  // held for the journal's replication
  REQUIRE(test::wait_for([&] { return ex.stats().holds > 0; }));
  auto hold_a_pass = [&] {
    pass_held = false;
    hold_pass = true;
    REQUIRE(test::wait_for([&] { return pass_held.load(); }));
  };
  hold_a_pass();
  // Given away through seq 5 and back, while that pass runs; meanwhile the process it went to
  // sent 6..15.
  ex.export_nodes({node_id}, {}, {{node_id, 5}});
  ex.export_nodes({node_id});
  // The other process stores `from`..`through` and sends them; then the held pass ends.
  dir_with_outputs b;
  auto other_sends_then_pass_ends = [&](std::uint64_t from, std::uint64_t through) {
    b.add(from, through);
    {
      output_exporter eb(c, b.db);
      eb.export_nodes({node_id});
      REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == through; }));
    }
    const std::uint64_t passes = ex.stats().passes;
    hold_pass = false;
    REQUIRE(test::wait_for([&] { return ex.stats().passes >= passes + 3; }));
  };
  other_sends_then_pass_ends(1, 15);
  // The held outputs are in the stream: nothing to add (without reading the end again, it
  // would send 6..10 again).
  replicated = 20;
  REQUIRE(test::wait_for([&] { return ex.stats().holds == 0 && ex.stats().behind == 0; }));
  a.add(16, 18);  // made from records the stream holds
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 18; }));
  CHECK(ex.stats().duplicates == 0);

  // Dropped and taken again within one pass: forgotten all the same (it goes on from the
  // subject's end, where the other process left it).
  hold_a_pass();
  ex.export_nodes({});
  ex.export_nodes({node_id});
  other_sends_then_pass_ends(16, 25);
  a.add(19, 27);  // without reading the end again, 19..25 would go again
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 27; }));
  CHECK(ex.stats().duplicates == 0);
  CHECK(ex.stop(std::chrono::seconds(5)));
  check_subject(*link, c, 27);
}

// A node dropped while its batch fails (its process lost the cluster, and the node was placed
// elsewhere meanwhile): the batch goes again once the cluster answers. What went of it may have
// a hole, which the process that goes on from the subject's end would leave for good.
TEST_CASE("a node dropped while its batch fails sends that batch again once the cluster answers",
          "[cluster]") {
  sent_three t;
  auto& [s, proxy, link, c, a, ex] = t;
  t.fail_a_batch(6);
  const std::uint64_t before_drop = ex.stats().passes;
  ex.export_nodes({});
  // Only that batch: outputs stored after the drop are the new process's to send. (After the
  // pass that may have begun before the drop: it could read them into the batch.)
  REQUIRE(
      test::wait_for([&] { return ex.stats().passes > before_drop; }, std::chrono::seconds(20)));
  // Admin `cluster` counts it while its batch goes.
  REQUIRE(test::wait_for([&] { return ex.stats().nodes == 1; }, std::chrono::seconds(20)));
  a.add(7, 9);
  proxy.restore();
  REQUIRE(
      test::wait_for([&] { return last_seq_in_stream(*link, c) == 6; }, std::chrono::seconds(20)));
  const std::uint64_t passes = ex.stats().passes;
  REQUIRE(test::wait_for([&] { return ex.stats().passes >= passes + 5; }));
  CHECK(ex.stats().nodes == 0);
  CHECK(ex.stop(std::chrono::seconds(5)));
  check_subject(*link, c, 6);
}

// Given away and back while its batch fails (within one pass: the pass waits on the lost
// connection): the batch goes again, and then the subject's end is read, as the process it went
// to may have sent past it.
TEST_CASE("a node given away and back while its batch fails reads its subject's end after it",
          "[cluster]") {
  sent_three t;
  auto& [s, proxy, link, c, a, ex] = t;
  t.fail_a_batch(5);
  ex.export_nodes({node_id}, {}, {{node_id, 3}});
  ex.export_nodes({node_id});
  dir_with_outputs b;  // the process it went to sends 4..12
  b.add(1, 12);
  {
    output_exporter eb(c, b.db);
    eb.export_nodes({node_id});
    REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 12; }));
  }
  proxy.restore();
  // 4..5 go again: stored already, acknowledged as duplicates.
  REQUIRE(test::wait_for(
      [&] {
        const auto st = ex.stats();
        return st.duplicates >= 2 && st.behind == 0;
      },
      std::chrono::seconds(20)));
  const std::uint64_t duplicates = ex.stats().duplicates;
  a.add(6, 14);  // without reading the end again, 6..12 would go again
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 14; }));
  CHECK(ex.stats().duplicates == duplicates);
  CHECK(ex.stop(std::chrono::seconds(5)));
  check_subject(*link, c, 14);
}

namespace {

// Puts the node's outputs `seqs` on its subject, as another process sends them.
void publish_outputs(jetstream_link& link, const cluster_decl& c,
                     const std::vector<std::uint64_t>& seqs) {
  std::vector<std::string> bytes;
  for (const std::uint64_t q : seqs) bytes.push_back(output(q));
  std::vector<outgoing_message> msgs;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    msgs.push_back({"ex:" + node_id + ":" + std::to_string(seqs[i]), "", bytes[i]});
  REQUIRE(link.publish(c.output_subject(node_id), msgs, 5000).stored == seqs.size());
}

// The node's subject as a process that died within a batch's resend leaves it: seqs 1, 2, 4, 6
// and 7 stored, 3 and 5 not (a leader change stores a batch in part). Another node's output is
// stored after them: the stream's last message is not the subject's.
void subject_with_holes(jetstream_link& link, const cluster_decl& c) {
  link.ensure_stream(c);
  publish_outputs(link, c, {1, 2, 4, 6, 7});
  const std::string other = output(1);
  REQUIRE(
      link.publish(c.output_subject(std::string(64, 'f')), {{"other", "", other}}, 5000).stored ==
      1);
}

// The seqs on the node's subject, in the order the stream holds them; each message's id and
// bytes are its seq's.
std::vector<std::uint64_t> seqs_on_subject(jetstream_link& link, const cluster_decl& c) {
  std::vector<std::uint64_t> seqs;
  for (const auto& m : subject_of_node(link, c)) {
    const std::uint64_t q = decode_output(m.data).seq;
    CHECK(m.msg_id == "ex:" + node_id + ":" + std::to_string(q));
    CHECK(m.data == output(q));
    seqs.push_back(q);
  }
  return seqs;
}

// A server whose stream holds the node's subject with holes (subject_with_holes).
struct with_holes {
  nats_server s;
  std::unique_ptr<jetstream_link> link = connect(s);
  cluster_decl c = decl(s);
  with_holes() { subject_with_holes(*link, c); }
};

}  // namespace

// A process that takes a node sends the seqs missing below its subject's end from its own
// outputs (the same bytes), under their own ids: the subject then holds every seq once.
TEST_CASE("a node's seqs missing below its subject's end are sent by the process that takes it",
          "[cluster]") {
  with_holes t;
  auto& [s, link, c] = t;
  dir_with_outputs b;
  b.add(1, 10);
  output_exporter eb(c, b.db);
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 10; }));
  CHECK(seqs_on_subject(*link, c) == std::vector<std::uint64_t>{1, 2, 4, 6, 7, 3, 5, 8, 9, 10});
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 2; }));
  CHECK(eb.stats().gaps == 0);
  CHECK(eb.stats().duplicates == 0);
  // Dropped, and another process sends 13 and 15 but not 12 and 14; taken again, this one
  // looks again and fills them.
  eb.export_nodes({});
  const std::uint64_t passes = eb.stats().passes;
  REQUIRE(test::wait_for([&] { return eb.stats().passes >= passes + 2; }));
  b.add(11, 16);
  publish_outputs(*link, c, {11, 13, 15});
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 16; }));
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 4; }));
  CHECK(eb.stats().duplicates == 0);
  CHECK(seqs_on_subject(*link, c) ==
        std::vector<std::uint64_t>{1, 2, 4, 6, 7, 3, 5, 8, 9, 10, 11, 13, 15, 12, 14, 16});
}

// A process whose dir starts after some of the missing seqs (its checkpoint came later) sends
// those it holds; the others are waited for (gap_wait), then said and counted as gaps, once.
TEST_CASE("seqs missing below a subject's end that the process taking it lacks are gaps",
          "[cluster]") {
  with_holes t;
  auto& [s, link, c] = t;
  dir_with_outputs b;
  b.add(5, 9);  // its checkpoint came after seq 4
  output_exporter eb(c, b.db, {}, std::chrono::milliseconds(500));
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 9; }));
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 1; }));
  CHECK(seqs_on_subject(*link, c) == std::vector<std::uint64_t>{1, 2, 4, 6, 7, 5, 8, 9});
  // After the 500 ms wait, without a batch.
  REQUIRE(test::wait_for([&] { return eb.stats().gaps == 1; }));
  b.add(10, 10);
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 10; }));
  // Taken again, with another hole it holds: that one is filled, 3 is not counted again.
  eb.export_nodes({});
  const std::uint64_t passes = eb.stats().passes;
  REQUIRE(test::wait_for([&] { return eb.stats().passes >= passes + 2; }));
  b.add(11, 13);
  publish_outputs(*link, c, {12});
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 2; }));
  CHECK(last_seq_in_stream(*link, c) == 13);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  b.add(14, 14);
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 14; }));
  const std::uint64_t after_take = eb.stats().passes;
  REQUIRE(test::wait_for([&] { return eb.stats().passes >= after_take + 10; }));
  CHECK(eb.stats().gaps == 1);
  CHECK(seqs_on_subject(*link, c) ==
        std::vector<std::uint64_t>{1, 2, 4, 6, 7, 5, 8, 9, 10, 12, 11, 13, 14});
}

// A heir's backfill stores the missing seqs after it took the node: they are waited for as
// long as it lasts (its batches meanwhile go without them), then sent.
TEST_CASE("seqs missing below a subject's end are sent once a heir's backfill stored them",
          "[cluster]") {
  with_holes t;
  auto& [s, link, c] = t;
  dir_with_outputs b;
  b.add(5, 9);
  output_exporter eb(c, b.db, {}, std::chrono::milliseconds(300));
  eb.export_nodes({node_id}, {node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 9; }));
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 1; }));
  // Far past the 300 ms wait, with a batch: still waiting, no gap.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  b.add(10, 10);
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 10; }));
  CHECK(eb.stats().gaps == 0);
  b.add(1, 4);  // the backfill stored them: 3 goes without a batch, naming the end
  REQUIRE(test::wait_for([&] { return eb.stats().filled == 2; }));
  CHECK(eb.stats().gaps == 0);
  const auto last = link->last_message(c.stream, c.output_subject(node_id), false);
  REQUIRE(last);
  CHECK(decode_output(last->data).seq == 3);
  CHECK(last->end == "10 10000");
  b.add(11, 11);
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 11; }));
  CHECK(eb.stats().duplicates == 0);
  CHECK(seqs_on_subject(*link, c) == std::vector<std::uint64_t>{1, 2, 4, 6, 7, 5, 8, 9, 10, 3, 11});
}

// A filled seq names the subject's end (Shoal-End): when it is the subject's last message (the
// batch after it in its publish did not go, and its process stopped), the next process goes on
// after that end, not after the filled seq.
TEST_CASE("a process goes on after the end a filled seq names when it is the subject's last",
          "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  link->ensure_stream(c);
  publish_outputs(*link, c, {1, 2, 4, 5, 6, 7});
  const std::string three = output(3);
  REQUIRE(link->publish(c.output_subject(node_id), {{"ex:" + node_id + ":3", "", three, "7 7000"}},
                        5000)
              .stored == 1);
  REQUIRE(last_seq_in_stream(*link, c) == 3);
  dir_with_outputs b;
  b.add(1, 9);
  output_exporter eb(c, b.db);
  eb.export_nodes({node_id});
  REQUIRE(test::wait_for([&] { return last_seq_in_stream(*link, c) == 9; }));
  REQUIRE(test::wait_for([&] { return eb.stats().sent == 2; }));
  CHECK(eb.stats().duplicates == 0);  // after 3, 4..7 would have gone again
  CHECK(eb.stats().filled == 0);
  CHECK(seqs_on_subject(*link, c) == std::vector<std::uint64_t>{1, 2, 4, 5, 6, 7, 3, 8, 9});
}

// The engine hands the exporter's waker to the store writer's and the replicator's threads, which
// may call it after the exporter is gone (a start that failed after making it): the sanitizer
// build catches a waker that points into the exporter.
TEST_CASE("the exporter's waker wakes a pass, and may be called once the exporter is gone",
          "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = decl(s);
  dir_with_outputs d;
  d.add(1, 3);
  std::function<void(std::uint64_t)> wake;
  {
    output_exporter e(c, d.db);
    wake = e.waker();
    e.export_nodes({node_id});
    REQUIRE(shoal::test::wait_for([&] { return last_seq_in_stream(*link, c) == 3; }));
    const std::uint64_t passes = e.stats().passes;
    wake(3);
    REQUIRE(shoal::test::wait_for([&] { return e.stats().passes > passes; }));
  }
  wake(4);
  wake(5);
  check_subject(*link, c, 3);
}
