// The store's own promises, below its writer: how it flushes, how keys are made, single reads.
#include <lmdb.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "../unit/temp_files.hpp"
#include "runtime/store/store_writer.hpp"

using namespace shoal;
using shoal::testing::temp_dir;

TEST_CASE("node_key makes the keys output_key makes", "[store]") {
  const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  for (const std::int64_t bucket : {INT64_MIN, std::int64_t{-5}, std::int64_t{0},
                                    std::int64_t{1'700'000'000'000'000'000}, INT64_MAX}) {
    CHECK(node_key(id).output_key(bucket) == output_key(id, bucket));
  }
  CHECK_THROWS_AS(node_key("not hex"), store_error);
}

// A replay's --out (store_sync::on_sync) skips LMDB's flush at each commit and is flushed once
// by sync(). What a test can see: the environment's flags, and every commit there after a
// reopen (the page cache would hold them even without sync(); the flags are the check).
TEST_CASE("a store synced on demand does not flush each commit and keeps what it committed",
          "[store]") {
  temp_dir dir;
  const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  {
    store db(dir.path().string(), true, store_sync::on_sync);
    unsigned flags = 0;
    REQUIRE(mdb_env_get_flags(db.env(), &flags) == MDB_SUCCESS);
    CHECK((flags & MDB_NOSYNC) != 0);
    CHECK_FALSE(db.syncs_each_commit());
    store_writer::options o;
    o.max_txn_bytes = 4096;         // many transactions
    o.writeback_bytes = 64 * 1024;  // and the kernel asked to start writing now and then
    store_writer w(db, o);
    const node_key key(id);
    for (std::int64_t b = 0; b < 5000; ++b) w.put_output(key, b, std::string(900, 'v'));
    w.flush();
    db.sync();
    CHECK(w.stats().commits >= 1000);  // 5 outputs of 940 bytes reach 4096
  }
  store db(dir.path().string(), false);
  CHECK(db.output_count() == 5000);
  CHECK(db.output_range(id) == std::pair<std::int64_t, std::int64_t>{0, 4999});
  // A live engine's store flushes every commit.
  temp_dir live_dir;
  store live(live_dir.path().string());
  unsigned flags = 0;
  REQUIRE(mdb_env_get_flags(live.env(), &flags) == MDB_SUCCESS);
  CHECK((flags & MDB_NOSYNC) == 0);
  CHECK(live.syncs_each_commit());
}

TEST_CASE("journal_bytes reads one journal record by its seq", "[store]") {
  temp_dir dir;
  store db(dir.path().string());
  store_writer w(db);
  for (const char* r : {"a", "bb", "ccc"}) w.append_journal(r);
  w.flush();
  CHECK_FALSE(db.journal_bytes(0));
  CHECK(db.journal_bytes(1) == "a");
  CHECK(db.journal_bytes(2) == "bb");
  CHECK(db.journal_bytes(3) == "ccc");
  CHECK_FALSE(db.journal_bytes(4));
}

// output_ends serves a reader of many nodes: each one's last bucket as output_range gives it, the
// nodes without outputs left out, and the journal's end from the same read. Neighbouring
// NodeIDs (one a byte above another's last key) must not be taken for each other.
TEST_CASE("output_ends gives each node's last bucket and the journal's end in one read",
          "[store]") {
  temp_dir dir;
  store db(dir.path().string());
  const std::string a = "00000000000000000000000000000000000000000000000000000000000000aa";
  const std::string b = "00000000000000000000000000000000000000000000000000000000000000ab";
  const std::string c = "00000000000000000000000000000000000000000000000000000000000000ac";
  const std::string last = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
  CHECK(db.output_ends({a, b}).journal_last == 0);
  CHECK(db.output_ends({a, b}).last_bucket.empty());
  store_writer w(db);
  for (const char* r : {"x", "y"}) w.append_journal(r);
  for (const std::int64_t bucket : {std::int64_t{-7}, std::int64_t{3}, INT64_MAX})
    w.put_output(node_key(a), bucket, "out");
  w.put_output(node_key(c), INT64_MIN, "out");
  w.put_output(node_key(last), 42, "out");
  w.flush();
  const store::output_ends_read ends = db.output_ends({a, b, c, last});
  CHECK(ends.journal_last == 2);
  CHECK(ends.last_bucket ==
        std::map<std::string, std::int64_t>{{a, INT64_MAX}, {c, INT64_MIN}, {last, 42}});
  CHECK(db.output_range(a) == std::pair<std::int64_t, std::int64_t>{-7, INT64_MAX});
  CHECK(db.output_range(c) == std::pair<std::int64_t, std::int64_t>{INT64_MIN, INT64_MIN});
  CHECK_FALSE(db.output_range(b));
  // The snapshot endpoint's read, to the same end (bucket INT64_MAX's key is the node's prefix
  // and eight bytes of 0xff).
  CHECK(db.last_outputs(a, 5).size() == 3);
  CHECK(db.last_outputs(a, 1).size() == 1);
  CHECK(db.last_outputs(b, 5).empty());
}
