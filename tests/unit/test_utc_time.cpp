#include <catch2/catch.hpp>

#include <vector>

#include "messages/utc_time.hpp"

using namespace shoal;

TEST_CASE("utc_time writes ISO-8601 UTC with the fraction a bucket needs", "[utc_time]") {
  const std::int64_t t = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z
  CHECK(utc_time(t) == "2026-01-01T00:00:00Z");
  CHECK(utc_time(t + 250'000'000) == "2026-01-01T00:00:00.250Z");
  CHECK(utc_time(t + 1'500) == "2026-01-01T00:00:00.000001500Z");
  CHECK(utc_time_ns(t + 250'000'000) == "2026-01-01T00:00:00.250000000Z");
  CHECK(utc_time_ns(-1) == "1969-12-31T23:59:59.999999999Z");
}

TEST_CASE("parse_utc_time reads what utc_time writes, dates, and ns integers", "[utc_time]") {
  const std::int64_t t = 1767225600LL * 1'000'000'000;
  const std::int64_t leap_day = std::int64_t{951782400} * 1'000'000'000;  // 2000-02-29
  for (const std::int64_t ns : std::vector<std::int64_t>{t, t + 250'000'000, t + 1'500,
                                                         t + 86'399'999'999'999, -1, leap_day}) {
    CHECK(parse_utc_time(utc_time(ns)) == ns);
    CHECK(parse_utc_time(utc_time_ns(ns)) == ns);
  }
  CHECK(parse_utc_time("2026-01-01") == t);
  CHECK(parse_utc_time("2026-01-01T00:01") == t + 60'000'000'000);
  CHECK(parse_utc_time("2026-01-01 00:00:01.5") == t + 1'500'000'000);
  CHECK(parse_utc_time("1767225600000000000") == t);
  CHECK(parse_utc_time("-5") == -5);
  CHECK(parse_utc_time("2026") == 2026);  // an integer is ns
  for (const char* bad : {"", "2026-13-01", "2026-01-01T25:00", "2026-01-01T00:00:00.",
                          "2026-01-01T00:00:00.1234567891", "2026-01-01X", "12ab", "3000-01-01",
                          "2026-01-01T00:00:00+01:00"})
    CHECK_FALSE(parse_utc_time(bad).has_value());
}
