#include "runtime/engine/failpoints.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <stdexcept>

namespace shoal {

bool kernel_fault::hit(std::int64_t b) {
  if (b != bucket) return false;
  std::int64_t left = remaining.load();
  while (left != 0) {
    if (left < 0) return true;
    if (remaining.compare_exchange_weak(left, left - 1)) return true;
  }
  return false;
}

namespace {

std::optional<std::int64_t> whole_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::logic_error&) {
    // not a number, or out of range
  }
  return std::nullopt;
}

const std::vector<std::string> flag_names{"take_fail", "join_stall", "backfill_slow", "stop_unread",
                                          "placement_ack_lost"};

bool is_flag(const std::string& item) {
  return std::find(flag_names.begin(), flag_names.end(), item) != flag_names.end();
}

const std::string& failpoints_text() {
  static const std::string text = [] {
    const char* t = std::getenv("SHOAL_FAILPOINTS");
    return std::string(t ? t : "");
  }();
  return text;
}

}  // namespace

std::vector<std::string> parse_failpoint_flags(const std::string& all) {
  parse_failpoints(all);  // refuses what it cannot read
  std::vector<std::string> flags;
  std::size_t pos = 0;
  while (pos <= all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    const std::string item = all.substr(pos, end - pos);
    if (is_flag(item)) flags.push_back(item);
    pos = end + 1;
  }
  return flags;
}

bool failpoint_flag(const std::string& name) {
  static const std::vector<std::string> flags = parse_failpoint_flags(failpoints_text());
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::vector<std::shared_ptr<kernel_fault>> parse_failpoints(const std::string& all) {
  std::vector<std::shared_ptr<kernel_fault>> out;
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    const std::string item = all.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty() || is_flag(item)) continue;
    const auto bad = [&](const char* why) {
      return std::invalid_argument(
          "SHOAL_FAILPOINTS: \"" + item + "\": " + why +
          " (expected kernel_throw=NAME@BUCKET[*N], cost_scale=K, take_fail, join_stall, "
          "backfill_slow, stop_unread or placement_ack_lost)");
    };
    if (const std::string scale = "cost_scale="; item.rfind(scale, 0) == 0) {
      const auto k = whole_number(item.substr(scale.size()));
      if (!k || *k < 1) throw bad("K is not a whole number of at least 1");
      continue;
    }
    const std::string prefix = "kernel_throw=";
    if (item.rfind(prefix, 0) != 0) throw bad("unknown failpoint");
    const std::string rest = item.substr(prefix.size());
    const auto at = rest.find('@');
    if (at == std::string::npos || at == 0) throw bad("no NAME@BUCKET");
    auto f = std::make_shared<kernel_fault>();
    f->name = rest.substr(0, at);
    const std::string when = rest.substr(at + 1);
    const auto star = when.find('*');
    const auto bucket = whole_number(when.substr(0, star));
    if (!bucket) throw bad("BUCKET is not a number");
    f->bucket = *bucket;
    if (star != std::string::npos) {
      const auto times = whole_number(when.substr(star + 1));
      if (!times || *times < 0) throw bad("N is not a count");
      f->remaining = *times;
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::int64_t failpoint_cost_scale() {
  static const std::int64_t scale = [] {
    const std::string& all = failpoints_text();
    parse_failpoints(all);  // refuses what it cannot read
    std::int64_t k = 1;
    std::size_t pos = 0;
    while (pos < all.size()) {
      std::size_t end = all.find(';', pos);
      if (end == std::string::npos) end = all.size();
      const std::string item = all.substr(pos, end - pos);
      if (const std::string scale = "cost_scale="; item.rfind(scale, 0) == 0)
        k = *whole_number(item.substr(scale.size()));
      pos = end + 1;
    }
    return k;
  }();
  return scale;
}

std::vector<std::shared_ptr<kernel_fault>> kernel_faults_for(
    const std::vector<std::string>& names) {
  // Parsed once per process: a *N count is shared by every runner of the node (a retry makes a
  // new one), so "the first N times" means in this process.
  static const std::vector<std::shared_ptr<kernel_fault>> faults =
      parse_failpoints(failpoints_text());
  std::vector<std::shared_ptr<kernel_fault>> mine;
  for (const auto& f : faults)
    if (std::find(names.begin(), names.end(), f->name) != names.end()) mine.push_back(f);
  return mine;
}

}  // namespace shoal
