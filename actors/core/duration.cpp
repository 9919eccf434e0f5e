#include "actors/core/duration.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>

namespace shoal {

namespace {
__extension__ typedef __int128 wide_int;  // GCC/Clang 128-bit integer, for overflow-free math
}  // namespace

std::int64_t parse_duration_ns(std::string_view text) {
  auto bad = [&](const char* why) {
    return std::invalid_argument("bad duration \"" + std::string(text) + "\": " + why);
  };
  // A decimal number ("1.5") and a unit; computed in integers so "0.1s" is exactly 100 ms.
  std::size_t i = 0;
  std::int64_t whole = 0, frac = 0, frac_scale = 1;
  const std::int64_t limit = INT64_MAX / 10;
  bool digits = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, digits = true) {
    if (whole > limit) throw bad("too large");
    whole = whole * 10 + (text[i] - '0');
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i, digits = true) {
      if (frac_scale > limit) throw bad("too many decimals");
      frac = frac * 10 + (text[i] - '0');
      frac_scale *= 10;
    }
  }
  if (!digits) throw bad("expected a number and a unit (ns, us, ms, s, m, h, d)");
  const std::string_view unit = text.substr(i);
  std::int64_t scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1'000;
  else if (unit == "ms")
    scale = 1'000'000;
  else if (unit == "s")
    scale = 1'000'000'000;
  else if (unit == "m")
    scale = 60'000'000'000;
  else if (unit == "h")
    scale = 3'600'000'000'000;
  else if (unit == "d")
    scale = 86'400'000'000'000;
  else
    throw bad("unit must be one of ns, us, ms, s, m, h, d");
  // frac / frac_scale of a unit, in ns; 128-bit so many decimals cannot overflow.
  const wide_int frac_ns = static_cast<wide_int>(frac) * scale;
  if (frac_ns % frac_scale != 0) throw bad("not a whole number of nanoseconds");
  const wide_int total = static_cast<wide_int>(whole) * scale + frac_ns / frac_scale;
  if (total > INT64_MAX) throw bad("too large");
  const auto ns = static_cast<std::int64_t>(total);
  if (ns <= 0) throw bad("must be > 0");
  return ns;
}

std::string format_duration_ns(std::int64_t ns) {
  struct unit {
    std::int64_t scale;
    const char* name;
  };
  static constexpr unit units[] = {{86'400'000'000'000, "d"}, {3'600'000'000'000, "h"},
                                   {60'000'000'000, "m"},     {1'000'000'000, "s"},
                                   {1'000'000, "ms"},         {1'000, "us"}};
  for (const auto& u : units)
    if (ns != 0 && ns % u.scale == 0) return std::to_string(ns / u.scale) + u.name;
  return std::to_string(ns) + "ns";
}

}  // namespace shoal
