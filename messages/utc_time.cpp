#include "messages/utc_time.hpp"

#include <charconv>
#include <ctime>

namespace shoal {
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::string seconds_text(std::int64_t ns, std::int64_t& frac) {
  std::time_t secs = static_cast<std::time_t>(ns / ns_per_s);
  frac = ns % ns_per_s;
  if (frac < 0) {
    --secs;
    frac += ns_per_s;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string nine_digits(std::int64_t frac) {
  std::string digits = std::to_string(frac);
  digits.insert(0, 9 - digits.size(), '0');
  return digits;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

std::string utc_time(std::int64_t ns) {
  std::int64_t frac = 0;
  std::string out = seconds_text(ns, frac);
  if (frac) {
    std::string d = nine_digits(frac);
    while (d.size() > 3 && d.compare(d.size() - 3, 3, "000") == 0) d.resize(d.size() - 3);
    out += "." + d;
  }
  return out + "Z";
}

std::string utc_time_ns(std::int64_t ns) {
  std::int64_t frac = 0;
  std::string out = seconds_text(ns, frac);
  return out + "." + nine_digits(frac) + "Z";
}

std::optional<std::int64_t> parse_utc_time(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.find('-', 1) == std::string_view::npos) {  // an integer: ns
    std::int64_t ns = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ns);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return ns;
  }
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31)
    return std::nullopt;
  std::size_t at = 10;
  std::int64_t frac = 0;
  if (at < s.size() && (s[at] == 'T' || s[at] == ' ')) {
    if (!digits(s, at + 1, 2, h) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !digits(s, at + 4, 2, mi) || h > 23 || mi > 59)
      return std::nullopt;
    at += 6;
    if (at < s.size() && s[at] == ':') {
      if (!digits(s, at + 1, 2, sec) || sec > 60) return std::nullopt;
      at += 3;
      if (at < s.size() && s[at] == '.') {
        std::size_t n = 0;
        for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++n) {
          if (n == 9) return std::nullopt;
          frac = frac * 10 + (s[at] - '0');
        }
        if (n == 0) return std::nullopt;
        for (; n < 9; ++n) frac *= 10;
      }
    }
  }
  if (at < s.size() && s[at] == 'Z') ++at;
  if (at != s.size()) return std::nullopt;
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  // int64 ns reach ±9.22e9 s from the epoch.
  if (secs > 9'223'372'035 || secs < -9'223'372'035) return std::nullopt;
  return secs * ns_per_s + frac;
}

}  // namespace shoal
