// The store writer's promise on a manual clock: a record is committed within max_delay of its
// arrival whatever the rate, a queue full of large records is committed at once (never a
// deadlock), a group of writes lands in one transaction, and a backlog in transactions of
// bounded size.
#include <lmdb.h>
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "../unit/temp_files.hpp"
#include "messages/journal_record.hpp"
#include "runtime/clock/manual_clock.hpp"
#include "runtime/store/store_writer.hpp"
#include "wait_for.hpp"

using namespace shoal;
using shoal::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

store_writer::options on(manual_clock& c) {
  store_writer::options o;
  o.max_batch = 1000;
  o.max_delay = 20ms;
  o.clock = &c;
  return o;
}

// The writer thread is blocked on the clock (waiting for its deadline).
bool writer_waiting(const manual_clock& c) {
  return test::wait_for([&] { return c.waiters() > 0; });
}

}  // namespace

TEST_CASE("a single record on a slow feed is committed max_delay after it arrived",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  store_writer w(db, on(clk));
  CHECK(w.append_journal("first") == 1);
  REQUIRE(writer_waiting(clk));
  clk.advance(19ms);
  // The deadline has not passed on this clock: given time to see the new time, the writer
  // still does not commit (waiters() alone may be the registration from before the advance).
  CHECK_FALSE(test::wait_for([&] { return w.committed_journal_seq() != 0; }, 50ms));
  clk.advance(1ms);
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 1; }));
  CHECK(db.journal_count() == 1);

  // The next record, long after: its own deadline, counted from its own arrival.
  clk.advance(5s);
  CHECK(w.append_journal("second") == 2);
  REQUIRE(writer_waiting(clk));
  clk.advance(20ms);
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 2; }));
  CHECK(w.stats().commits == 2);
}

TEST_CASE("a full batch is committed at once, without waiting for the deadline", "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  auto o = on(clk);
  o.max_batch = 10;
  store_writer w(db, o);
  for (int i = 0; i < 10; ++i) w.append_journal("r" + std::to_string(i));
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 10; }));
}

TEST_CASE("expedite commits the journal through a seq at once, and is a no-op once it is committed",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  store_writer w(db, on(clk));
  w.append_journal("a");
  const auto b = w.append_journal("b");
  REQUIRE(writer_waiting(clk));
  w.expedite(b);  // no clock advance: the commit is due now
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == b; }));
  CHECK(w.stats().commits == 1);

  // Already committed: the next record waits for its own deadline again.
  w.expedite(b);
  w.append_journal("c");
  REQUIRE(writer_waiting(clk));
  CHECK_FALSE(test::wait_for([&] { return w.committed_journal_seq() != b; }, 50ms));
  clk.advance(20ms);
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 3; }));
  CHECK(w.stats().commits == 2);
}

TEST_CASE("a queue full of a few large records is committed at once, never a deadlock",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;  // never advanced: only the byte bound can make the writer commit
  auto o = on(clk);
  o.max_queue_bytes = 4096;
  store_writer w(db, o);
  auto producer = std::async(std::launch::async, [&] {
    for (int i = 0; i < 40; ++i)
      w.append_journal(std::string(1500, static_cast<char>('a' + i % 26)));
  });
  REQUIRE(producer.wait_for(10s) == std::future_status::ready);
  producer.get();
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() >= 38; }));
  // One record larger than the whole byte bound still goes through.
  w.append_journal(std::string(10000, 'z'));
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 41; }));
  CHECK(db.journal_count() == 41);
}

TEST_CASE("a record queue of one still moves, and a stopped writer refuses with an error",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  auto o = on(clk);
  o.max_queue = 1;
  o.max_batch = 1000;
  o.max_queue_bytes = 1 << 20;
  store_writer w(db, o);
  for (int i = 0; i < 5; ++i) w.append_journal("a");  // each waits for the one before: committed
  w.flush();
  CHECK(db.journal_count() == 5);
  w.stop();
  CHECK_THROWS_AS(w.append_journal("b"), store_error);
}

TEST_CASE("a group of writes lands in one transaction", "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  store_writer w(db, on(clk));
  store_writer::group g;
  for (int i = 0; i < 50; ++i) g.put_state(std::string(62, '0') + std::to_string(10 + i), "s");
  g.put_meta("checkpoint", "position");
  const auto commits = w.stats().commits;
  w.put_group(std::move(g));
  w.flush();
  CHECK(w.stats().commits == commits + 1);
  CHECK(db.all_state().size() == 50);
  CHECK(db.get_meta("checkpoint") == "position");
}

// LMDB keeps the page buffers of its largest write transaction until the environment closes,
// so a backlog committed in one transaction would raise RSS for good (the soak's step).
TEST_CASE("a backlog is committed in transactions of at most max_txn_bytes, groups never split",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  manual_clock clk;
  auto o = on(clk);
  o.max_txn_bytes = 10'000;
  store_writer w(db, o);
  const auto commits = w.stats().commits;
  // 100 records of 1,000 bytes queued before the writer's deadline: one batch, 10 transactions.
  for (int i = 0; i < 100; ++i) w.append_journal(std::string(1000, 'x'));
  REQUIRE(writer_waiting(clk));
  clk.advance(20ms);
  REQUIRE(test::wait_for([&] { return w.committed_journal_seq() == 100; }));
  CHECK(w.stats().commits == commits + 10);
  CHECK(db.journal_count() == 100);

  // A group ten times the limit still lands in one transaction.
  store_writer::group g;
  for (int i = 0; i < 50; ++i) {
    g.put_state(std::string(62, '0') + std::to_string(10 + i), std::string(2000, 's'));
  }
  g.put_meta("checkpoint", "position");
  const auto before = w.stats().commits;
  w.put_group(std::move(g));
  w.flush();
  CHECK(w.stats().commits == before + 1);
  CHECK(db.all_state().size() == 50);
}

namespace {

// A writer whose transactions hold about 10 KB, and what the store held after each of them.
struct small_transactions {
  temp_dir dir;
  store db{dir.path().string()};
  manual_clock clk;
  store_writer w{db, [this] {
                   auto o = on(clk);
                   o.max_txn_bytes = 10'000;
                   return o;
                 }()};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> after;  // (journal records, outputs)
  small_transactions() {
    w.on_commit(
        [this](std::uint64_t) { after.emplace_back(db.journal_count(), db.output_count()); });
  }
  // What is queued reaches its deadline and is committed.
  void commit_due() {
    REQUIRE(writer_waiting(clk));
    clk.advance(20ms);
    w.flush();
  }
};

}  // namespace

// A graph of many nodes queues many outputs per input: a journal record queued behind such a
// backlog must not wait for all of its transactions (a kill meanwhile loses what the feed sent).
TEST_CASE("a journal record queued behind a backlog of outputs lands in the first transaction",
          "[store_writer]") {
  small_transactions t;
  const std::string node(64, 'a');
  t.w.append_journal("j1");
  for (int b = 0; b < 100; ++b) t.w.put_output(node, b, std::string(1000, 'o'));
  t.w.append_journal("j2");  // behind 100 KB of outputs: ten transactions of them
  t.w.put_output(node, 100, "from j2");
  t.commit_due();
  REQUIRE(t.after.size() == 11);  // the last output in a transaction of its own
  CHECK(t.after.front() == std::make_pair(std::uint64_t{2}, std::uint64_t{10}));
  CHECK(t.after.back() == std::make_pair(std::uint64_t{2}, std::uint64_t{101}));
  CHECK(t.w.committed_journal_seq() == 2);

  // Again, the journal record queued last: still the first transaction.
  t.after.clear();
  for (int b = 101; b < 201; ++b) t.w.put_output(node, b, std::string(1000, 'o'));
  t.w.append_journal("j3");
  t.w.put_output(node, 201, "from j3");
  t.commit_due();
  CHECK(t.after.front().first == 3);
  CHECK(t.db.output_count() == 202);
  CHECK(t.db.journal_count() == 3);
}

TEST_CASE("an output never lands before a journal record queued ahead of it", "[store_writer]") {
  small_transactions t;
  for (int i = 0; i < 30; ++i) t.w.append_journal(std::string(1000, 'j'));  // three times the cap
  t.w.put_output(std::string(64, 'a'), 1, "computed from the 30th");
  t.w.append_journal("after it");
  t.commit_due();
  REQUIRE(!t.after.empty());
  CHECK(t.after.front() == std::make_pair(std::uint64_t{30}, std::uint64_t{1}));
  CHECK(t.db.journal_count() == 31);
}

TEST_CASE("whether a journal holds control records: meta answers, else the journal is read",
          "[store_writer]") {
  temp_dir dir;
  store db(dir.path().string());
  store_writer w(db);
  w.append_journal(encode_event(Event{"s", 1, 1, make_value(Value(1.0))}));
  w.flush();
  CHECK_FALSE(db.journal_has_controls());  // read through: events only
  w.append_journal(encode_control(Control{"time_mode", "s", {{"mode", Value("payload")}}}));
  w.flush();
  CHECK(db.journal_has_controls());  // read through: found (an older dir, with no meta)
  // With the meta an engine writes, the journal is not read at all: the meta decides.
  w.put_meta(store::controls_meta, "0");
  w.flush();
  CHECK_FALSE(db.journal_has_controls());
  // A control appended as the engine does marks the meta first.
  w.append_journal_control(encode_control(Control{"restart", "", {{"node", Value("n")}}}));
  w.flush();
  CHECK(db.get_meta(store::controls_meta) == "1");
  CHECK(db.journal_has_controls());
}
