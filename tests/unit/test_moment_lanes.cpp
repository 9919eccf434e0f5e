#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "actors/core/cpu_features.hpp"
#include "actors/eigen_scanner/moment_lanes.hpp"

using namespace shoal;

namespace {

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// The same bits, or both NaN: which NaN an operation of two NaNs returns depends on the order
// the compiler gives its operands, in either form (the scanner's inputs are finite).
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b); }

// Doubles of every kind the loops may meet: ordinary ones, ones far outside [−1, 1], ±0,
// ±inf and NaN.
std::vector<double> awkward(std::mt19937_64& rng, std::size_t n) {
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  std::uniform_int_distribution<int> pick(0, 19);
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> xs(n);
  for (auto& x : xs) {
    switch (pick(rng)) {
      case 0:
        x = std::numeric_limits<double>::quiet_NaN();
        break;
      case 1:
        x = inf;
        break;
      case 2:
        x = -inf;
        break;
      case 3:
        x = -0.0;
        break;
      case 4:
        x = u(rng) * 1e300;
        break;
      default:
        x = u(rng);
    }
  }
  return xs;
}

}  // namespace

TEST_CASE("moment lanes: the AVX forms give the scalar forms' bits", "[kinds][eigen]") {
  if (!cpu_has_avx()) {
    WARN("this CPU has no AVX: only the scalar forms run here");
    return;
  }
  std::mt19937_64 rng(11);
  // Every length to past a few vectors, from every offset a vector can be misaligned by.
  for (std::size_t m = 0; m <= 19; ++m) {
    for (std::size_t off = 0; off < 4; ++off) {
      INFO("m " << m << " offset " << off);
      const auto x = awkward(rng, m + off), c0 = awkward(rng, m + off);
      const auto mean = awkward(rng, m + off), inv = awkward(rng, m + off);
      const double s = awkward(rng, 1)[0], sum_a = awkward(rng, 1)[0];
      const double inv_a = std::uniform_real_distribution<double>(0.1, 4.0)(rng);

      auto scalar = c0, wide = c0;
      add_scaled(scalar.data() + off, s, x.data() + off, m, false);
      add_scaled(wide.data() + off, s, x.data() + off, m, true);
      for (std::size_t i = 0; i < m + off; ++i) CHECK(same(scalar[i], wide[i]));

      std::vector<double> out_scalar(m + off, 7.0), out_wide(m + off, 7.0);
      correlations(c0.data() + off, sum_a, mean.data() + off, inv_a, inv.data() + off, m,
                   out_scalar.data() + off, false);
      correlations(c0.data() + off, sum_a, mean.data() + off, inv_a, inv.data() + off, m,
                   out_wide.data() + off, true);
      for (std::size_t j = 0; j < m + off; ++j) CHECK(same(out_scalar[j], out_wide[j]));
    }
  }
}

TEST_CASE("moment lanes: the scalar forms compute the formulas", "[kinds][eigen]") {
  const std::vector<double> x{1.0, -2.0, 0.5, 3.0, 1e-3};
  std::vector<double> c{10.0, 20.0, 30.0, 40.0, 50.0};
  add_scaled(c.data(), -2.0, x.data(), x.size(), false);
  CHECK(c == std::vector<double>{8.0, 24.0, 29.0, 34.0, 50.0 - 2e-3});

  // (cross − sum_a · mean) · inv_a · inv, clamped to [−1, 1], a NaN passing through.
  const std::vector<double> cross{0.5, 10.0, -10.0, 0.25, std::numeric_limits<double>::quiet_NaN()};
  const std::vector<double> mean{0.0, 0.0, 0.0, 0.5, 0.0};
  const std::vector<double> inv{1.0, 1.0, 1.0, 2.0, 1.0};
  std::vector<double> out(5);
  correlations(cross.data(), 0.5, mean.data(), 0.5, inv.data(), 5, out.data(), false);
  CHECK(out[0] == 0.25);
  CHECK(out[1] == 1.0);
  CHECK(out[2] == -1.0);
  CHECK(out[3] == 0.0);
  CHECK(std::isnan(out[4]));
}
