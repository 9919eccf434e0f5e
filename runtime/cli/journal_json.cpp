#include "runtime/cli/journal_json.hpp"

#include <ctime>

#include "messages/json.hpp"

namespace shoal {

nlohmann::json journal_json(const journal_record& r) {
  if (const auto* e = std::get_if<Event>(&r))
    return {
        {"seq", e->seq}, {"stream", e->stream}, {"ts", e->ts}, {"payload", to_json(*e->payload)}};
  if (const auto* w = std::get_if<Watermark>(&r)) {
    nlohmann::json j{{"stream", w->stream}, {"ts", w->ts}, {"watermark", true}};
    if (w->idle) j["idle"] = true;
    return j;
  }
  if (const auto* c = std::get_if<Control>(&r))
    return {{"control", c->kind}, {"stream", c->stream}, {"args", to_json(Value(c->args))}};
  const auto& x = std::get<Rejected>(r);
  nlohmann::json j{{"stream", x.stream},
                   {"ts", x.ts},
                   {"rejected", x.reason},
                   {"raw_bytes", x.raw_sha256.empty() ? x.raw.size() : x.raw_bytes}};
  if (!x.raw_sha256.empty()) {
    j["raw_kept"] = x.raw.size();
    j["raw_sha256"] = x.raw_sha256;
  }
  return j;
}

std::string utc_text(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(frac));
  return buf;
}

}  // namespace shoal
