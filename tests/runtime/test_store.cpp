// The store's own promises, below its writer: how it flushes, how keys are made, single reads.
#include <lmdb.h>
#include <catch2/catch.hpp>

#include <cstdint>
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
