// shoal explain DIR --journal SEQ [--json]: one journal record as it was ingested — an event's
// stream, seq, event time and payload; a watermark; a runtime change; and for rejected input the
// reason it was refused and its first bytes (hex and text), so a bad frame stays explainable
// long after it arrived (provenance issue). Read-only: no lock on the dir.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "messages/journal_record.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/journal_json.hpp"
#include "runtime/store/store.hpp"

namespace shoal {
namespace {

constexpr std::size_t head_bytes = 64;

std::string hex_head(const std::string& raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min(raw.size(), head_bytes); ++i) {
    const auto b = static_cast<unsigned char>(raw[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The classic dump: offset, 16 bytes in hex, the same as text (dots for what does not print).
void print_dump(const std::string& raw) {
  const std::size_t n = std::min(raw.size(), head_bytes);
  for (std::size_t row = 0; row < n; row += 16) {
    std::printf("    %04zx ", row);
    for (std::size_t i = row; i < row + 16; ++i) {
      if (i < n) {
        std::printf(" %02x", static_cast<unsigned char>(raw[i]));
      } else {
        std::printf("   ");
      }
    }
    std::printf("  |");
    for (std::size_t i = row; i < std::min(n, row + 16); ++i) {
      const auto c = static_cast<unsigned char>(raw[i]);
      std::putchar(std::isprint(c) ? c : '.');
    }
    std::printf("|\n");
  }
}

int explain_journal(const store& s, std::uint64_t seq, bool json) {
  std::optional<std::string> bytes;
  s.read_journal(seq - 1, 1, [&](std::uint64_t at, std::string_view b) {
    if (at == seq) bytes = std::string(b);
  });
  if (!bytes) {
    std::cerr << "shoal: " << s.dir() << ": no journal record " << seq << " (the journal holds 1.."
              << s.journal_last() << ")\n";
    return 2;
  }
  nlohmann::json j;
  journal_record r;
  try {
    r = decode_journal_record(*bytes);
    j = journal_json(r);
  } catch (const std::exception& e) {
    std::cerr << "shoal: journal record " << seq << " does not decode: " << e.what() << "\n";
    return 1;
  }
  j["ingest"] = seq;
  const auto* rejected = std::get_if<Rejected>(&r);
  if (rejected) j["raw_head_hex"] = hex_head(rejected->raw);
  if (json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  const char* kind = std::holds_alternative<Event>(r)       ? "event"
                     : std::holds_alternative<Watermark>(r) ? "watermark"
                     : std::holds_alternative<Control>(r)   ? "control (a runtime change)"
                                                            : "rejected input";
  std::printf("journal record %llu of %llu: %s\n", static_cast<unsigned long long>(seq),
              static_cast<unsigned long long>(s.journal_last()), kind);
  std::printf("  stream   %s\n", stream_of(r).c_str());
  if (j.contains("ts")) {
    const auto ts = j["ts"].get<std::int64_t>();
    std::printf("  ts       %s (%lld)\n", utc_text(ts).c_str(), static_cast<long long>(ts));
  }
  if (const auto* e = std::get_if<Event>(&r)) {
    std::printf("  seq      %llu (of its stream)\n", static_cast<unsigned long long>(e->seq));
    std::printf(
        "  payload  %s\n",
        j["payload"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (const auto* c = std::get_if<Control>(&r)) {
    std::printf("  change   %s %s\n", c->kind.c_str(), j["args"].dump().c_str());
  } else if (const auto* w = std::get_if<Watermark>(&r)) {
    std::printf("  closes   everything at or before ts on this stream%s\n",
                w->idle ? " (an idle watermark: the stream was quiet)" : "");
  } else if (rejected) {
    std::printf("  reason   %s\n", rejected->reason.c_str());
    const std::size_t size =
        rejected->raw_sha256.empty() ? rejected->raw.size() : rejected->raw_bytes;
    std::printf("  frame    %zu bytes", size);
    if (!rejected->raw_sha256.empty())
      std::printf(" (%zu kept, sha256 %s)", rejected->raw.size(), rejected->raw_sha256.c_str());
    std::printf("; the first %zu:\n", std::min(rejected->raw.size(), head_bytes));
    print_dump(rejected->raw);
  }
  return 0;
}

}  // namespace

void add_explain_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain what a data dir holds. --journal SEQ: one journal record as ingested (an event, a "
      "watermark, a runtime change, or rejected input with its reason and first bytes).");
  struct opts {
    std::string dir;
    std::uint64_t journal = 0;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  cmd->add_option("DIR", o->dir, "a data dir (shoal run --data)")->required();
  cmd->add_option("--journal", o->journal,
                  "the ingest seq of a journal record (as `shoal export --journal` numbers them, "
                  "from 1)")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json,
                "print the record as JSON: `shoal export --journal`'s keys, plus `ingest` and, "
                "for rejected input, `raw_head_hex`");
  cmd->callback([o, &result] {
    init_logging(result);
    if (!std::filesystem::is_directory(o->dir) || !store::exists(o->dir)) {
      std::cerr << "shoal: " << o->dir << ": not a shoal data dir\n";
      result.exit_code = 2;
      return;
    }
    try {
      result.exit_code = explain_journal(store(o->dir, false), o->journal, o->json);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << o->dir << ": " << e.what() << "\n";
      result.exit_code = 1;
    }
  });
}

}  // namespace shoal
