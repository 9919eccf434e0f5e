#include <catch2/catch.hpp>

#include "actors/fabricator/fabricator.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/payloads.hpp"

using namespace shoal;

namespace {

value_map params(std::int64_t seed, std::int64_t assets = 8) {
  return {{"seed", Value(seed)},
          {"assets", Value(assets)},
          {"levels", Value(5)},
          {"start", Value(1'767'225'600)}};
}

// Every event of the first n buckets, encoded, in emission order.
std::vector<std::string> events(std::int64_t seed, int n) {
  fabricator f(params(seed), 1'000'000'000);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto b = f.next();
    out.push_back(std::to_string(b.scan_ts) + to_msgpack(b.scan));
    for (const auto& [ts, book] : b.books) out.push_back(std::to_string(ts) + to_msgpack(book));
    out.push_back(std::to_string(b.watermark_ts));
  }
  return out;
}

}  // namespace

TEST_CASE("fabricator: same seed gives byte-identical events, another seed does not",
          "[fabricator]") {
  auto a = events(42, 200), b = events(42, 200), c = events(43, 200);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("fabricator: scans and books are valid payloads inside their bucket", "[fabricator]") {
  fabricator f(params(7, 12), 1'000'000'000);
  std::size_t books = 0;
  for (int i = 0; i < 300; ++i) {
    auto b = f.next();
    CHECK(b.bucket == 1'767'225'600'000'000'000 + i * 1'000'000'000LL);
    CHECK_NOTHROW(validate_scan(b.scan));
    CHECK(b.scan.find("assets")->as_list().size() == 12);
    CHECK(b.scan.find("scan_number")->as_int() == i);
    for (const auto& [ts, book] : b.books) {
      CHECK_NOTHROW(validate_ob(book));
      CHECK(book.find("bid_px")->as_f64_vector().size() == 5);
      // Best first: bids fall and asks rise away from the touch, and the book is not crossed.
      const auto& bid = book.find("bid_px")->as_f64_vector();
      const auto& ask = book.find("ask_px")->as_f64_vector();
      CHECK(bid[0] < ask[0]);
      CHECK(bid[0] > bid[4]);
      CHECK(ask[0] < ask[4]);
      CHECK(ts > b.bucket);
      CHECK(ts <= b.watermark_ts);
      ++books;
    }
    CHECK(b.watermark_ts == b.bucket + 999'999'999);
  }
  // About 90% of assets update their book each bucket.
  CHECK(books > 300 * 12 * 8 / 10);
  CHECK(books < 300 * 12);
}

TEST_CASE("fabricator: books = false gives the same scans and no books", "[fabricator]") {
  auto no_books = params(7);
  no_books["books"] = Value(false);
  fabricator with(params(7), 1'000'000'000), without(no_books, 1'000'000'000);
  CHECK(with.books());
  CHECK_FALSE(without.books());
  std::size_t books = 0;
  for (int i = 0; i < 50; ++i) {
    auto a = with.next(), b = without.next();
    CHECK(to_msgpack(a.scan) == to_msgpack(b.scan));
    CHECK(a.scan_ts == b.scan_ts);
    CHECK(b.books.empty());
    books += a.books.size();
  }
  CHECK(books > 0);
}
