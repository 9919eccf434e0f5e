// The store's build-mode databases: ledger records by (NodeID, segment), outputs retired out of
// `outputs` and still readable, and a dir no build has touched opened read-only without them.
#include <catch2/catch.hpp>

#include "../unit/temp_files.hpp"
#include "runtime/store/store_writer.hpp"

using namespace shoal;
using shoal::testing::temp_dir;

namespace {

const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');

std::vector<std::int64_t> buckets(const store& db, const std::string& id, bool retired) {
  std::vector<std::int64_t> out;
  auto f = [&](std::int64_t bucket, std::string_view) { out.push_back(bucket); };
  if (retired)
    db.for_each_retired_output_of(id, INT64_MIN, INT64_MAX, f);
  else
    db.for_each_output_of(id, INT64_MIN, INT64_MAX, f);
  return out;
}

}  // namespace

TEST_CASE("a dir without build databases opens read-only, with an empty ledger", "[store]") {
  temp_dir dir;
  {
    store db(dir.path().string());
    store_writer w(db);
    w.put_output(a, 5, "x");
    w.flush();
  }
  const store ro(dir.path().string(), false);
  int records = 0;
  ro.for_each_ledger([&](std::string_view, std::int64_t, std::string_view) { ++records; });
  CHECK(records == 0);
  CHECK(buckets(ro, a, true).empty());
  CHECK(ro.output_ids() == std::vector<std::string>{a});
}

TEST_CASE("ledger records come back by NodeID and segment, negative segments in order", "[store]") {
  temp_dir dir;
  store db(dir.path().string());
  store_writer w(db);
  w.put_ledger(b, 3, "b3");
  w.put_ledger(a, 7, "a7");
  w.put_ledger(a, -2, "a-2");
  w.put_ledger(a, 7, "a7 again");  // replaced
  w.flush();
  std::vector<std::tuple<std::string, std::int64_t, std::string>> got;
  db.for_each_ledger([&](std::string_view id, std::int64_t k, std::string_view v) {
    got.emplace_back(std::string(id), k, std::string(v));
  });
  CHECK(got == std::vector<std::tuple<std::string, std::int64_t, std::string>>{
                   {a, -2, "a-2"}, {a, 7, "a7 again"}, {b, 3, "b3"}});
}

TEST_CASE("a retired output leaves outputs and stays readable from retired", "[store]") {
  temp_dir dir;
  store db(dir.path().string());
  store_writer w(db);
  for (std::int64_t k : {-1, 0, 1}) {
    w.put_output(a, k, "a");
    w.put_output(b, k, "b");
    w.put_output(c, k, "c");
  }
  w.flush();
  CHECK(db.output_ids() == std::vector<std::string>{a, b, c});
  db.for_each_output_of(b, INT64_MIN, INT64_MAX, [&](std::int64_t k, std::string_view v) {
    w.retire_output(b, k, std::string(v));
  });
  w.flush();
  CHECK(db.output_ids() == std::vector<std::string>{a, c});
  CHECK(buckets(db, b, false).empty());
  CHECK(buckets(db, b, true) == std::vector<std::int64_t>{-1, 0, 1});
  CHECK(buckets(db, a, false) == std::vector<std::int64_t>{-1, 0, 1});
  CHECK(db.output_count() == 6);
}
