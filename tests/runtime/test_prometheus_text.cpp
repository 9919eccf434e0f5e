// prometheus_text against the exposition format: families, escaped label values, cumulative
// histogram buckets ending in +Inf, _sum and _count.
#include <catch2/catch.hpp>

#include <array>
#include <limits>

#include "runtime/metrics/prometheus_text.hpp"

using namespace shoal;

TEST_CASE("prometheus text: a counter family with escaped label values", "[metrics]") {
  prometheus_text t;
  t.family("shoal_x_total", "counter", "Things.");
  t.sample("shoal_x_total", {{"node", "a\"b\\c\nd"}}, 3);
  t.sample("shoal_x_total", {}, 4);
  CHECK(t.str() ==
        "# HELP shoal_x_total Things.\n# TYPE shoal_x_total counter\n"
        "shoal_x_total{node=\"a\\\"b\\\\c\\nd\"} 3\nshoal_x_total 4\n");
}

TEST_CASE("prometheus text: a histogram is cumulative and ends in +Inf", "[metrics]") {
  prometheus_text t;
  const std::array<double, 2> bounds{0.001, 0.01};
  const std::array<std::uint64_t, 3> counts{2, 0, 1};
  t.histogram("h", {{"node", "n"}, {"state", "RUNNING"}}, bounds, counts, 0.5);
  CHECK(t.str() ==
        "h_bucket{node=\"n\",state=\"RUNNING\",le=\"0.001\"} 2\n"
        "h_bucket{node=\"n\",state=\"RUNNING\",le=\"0.01\"} 2\n"
        "h_bucket{node=\"n\",state=\"RUNNING\",le=\"+Inf\"} 3\n"
        "h_sum{node=\"n\",state=\"RUNNING\"} 0.5\nh_count{node=\"n\",state=\"RUNNING\"} 3\n");
}

TEST_CASE("prometheus text: doubles keep every digit, and NaN and infinities are spelled out",
          "[metrics]") {
  prometheus_text t;
  t.sample("w", {}, 1767225600.000000001);  // ns lost to a double, but not 6-digit rounding
  t.sample("a", {}, 1767225601.5);
  t.sample("b", {}, 0.25);
  t.sample("c", {}, std::numeric_limits<double>::quiet_NaN());
  t.sample("d", {}, -std::numeric_limits<double>::infinity());
  CHECK(t.str() == "w 1767225600\na 1767225601.5\nb 0.25\nc NaN\nd -Inf\n");
}
