// shoal manifest DIR [--json]: what a data dir holds, in a form two parties can compare to agree
// they hold the same history and the same results (provenance issue): the engine version and
// graph that recorded it, its config, each kind's version and code hash, the journal's record
// count, event-time span and SHA-256, and per node its output count and wire digest (the chain
// `replay --digest` and `parity` use). Read-only: it never takes the dir's lock.
#include <openssl/evp.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "messages/hex.hpp"
#include "messages/journal_record.hpp"
#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/journal_json.hpp"
#include "runtime/store/output_digest.hpp"
#include "runtime/store/store.hpp"

namespace shoal {
namespace {

// SHA-256 over the journal in seq order: for each record, its 8-byte big-endian ingest seq, its
// 4-byte big-endian length, then its bytes (so no two journals share a hash by re-cutting).
struct journal_summary {
  std::uint64_t records = 0, events = 0;
  std::int64_t first_ts = 0, last_ts = 0;  // of the first and last event in journal order
  std::string sha256;
};

journal_summary summarize_journal(const store& s) {
  journal_summary j;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  std::uint64_t after = 0;
  for (;;) {
    const std::size_t n = s.read_journal(after, 4096, [&](std::uint64_t seq, std::string_view b) {
      unsigned char head[12];
      for (int i = 0; i < 8; ++i) head[i] = static_cast<unsigned char>(seq >> (56 - 8 * i));
      const auto len = static_cast<std::uint32_t>(b.size());
      for (int i = 0; i < 4; ++i) head[8 + i] = static_cast<unsigned char>(len >> (24 - 8 * i));
      EVP_DigestUpdate(ctx.get(), head, sizeof head);
      EVP_DigestUpdate(ctx.get(), b.data(), b.size());
      ++j.records;
      after = seq;
      try {
        const auto r = decode_journal_record(b);
        if (const auto* e = std::get_if<Event>(&r)) {
          if (j.events++ == 0) j.first_ts = e->ts;
          j.last_ts = e->ts;
        }
      } catch (const std::exception&) {
        // A record this build cannot decode still counts and is hashed as stored.
      }
    });
    if (n == 0) break;
    s.release_mapped_pages();
  }
  unsigned char h[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), h, &len);
  j.sha256 = to_hex(std::string_view(reinterpret_cast<const char*>(h), len));
  return j;
}

nlohmann::json meta_msgpack_json(const store& s, const std::string& key) {
  const auto bytes = s.get_meta(key);
  if (!bytes) return nullptr;
  return to_json(from_msgpack(*bytes, stored_data_limits()));
}

nlohmann::json manifest_of(const std::string& dir) {
  const store s(dir, false);
  nlohmann::json m;
  m["format"] = "shoal-manifest/1";
  const auto text = [&](const char* key) -> nlohmann::json {
    const auto v = s.get_meta(key);
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  m["engine_version"] = text("engine_version");
  m["graph_hash"] = text("graph_hash");
  m["config"] = meta_msgpack_json(s, "config");
  m["kinds"] = meta_msgpack_json(s, "kinds");
  const auto j = summarize_journal(s);
  m["journal"] = {{"records", j.records}, {"events", j.events}, {"sha256", j.sha256}};
  if (j.events) {
    m["journal"]["first_event_ts"] = j.first_ts;
    m["journal"]["last_event_ts"] = j.last_ts;
  }
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [name, d] : digest_of_store(s)) {
    outputs[name] = {
        {"id", d.id}, {"outputs", d.outputs}, {"digest", d.digest}, {"last_bucket", d.last_bucket}};
  }
  m["outputs"] = std::move(outputs);
  return m;
}

std::string short_hash(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>().substr(0, 16) : "-";
}

void print_manifest(const std::string& dir, const nlohmann::json& m) {
  std::cout << "data dir  " << dir << "\n";
  std::cout << "engine    "
            << (m["engine_version"].is_string() ? m["engine_version"].get<std::string>() : "-")
            << "   graph " << short_hash(m["graph_hash"]) << "\n";
  const auto& j = m["journal"];
  std::cout << "journal   " << j["records"] << " records (" << j["events"] << " events";
  if (j.contains("first_event_ts"))
    std::cout << ", event time " << utc_text(j["first_event_ts"].get<std::int64_t>()) << " .. "
              << utc_text(j["last_event_ts"].get<std::int64_t>());
  std::cout << "), sha256 " << j["sha256"].get<std::string>() << "\n";
  if (m["kinds"].is_object()) {
    std::cout << "kinds\n";
    for (const auto& [name, k] : m["kinds"].items()) {
      std::printf("  %-16s v%-3lld code %s\n", name.c_str(),
                  static_cast<long long>(k.value("version", 0)),
                  short_hash(k["code_hash"]).c_str());
    }
  }
  std::cout << "outputs\n";
  std::printf("  %-24s %-16s %10s  %s\n", "node", "id", "outputs", "digest");
  for (const auto& [name, o] : m["outputs"].items()) {
    std::printf("  %-24s %-16s %10llu  %s\n", name.c_str(), short_hash(o["id"]).c_str(),
                static_cast<unsigned long long>(o["outputs"].get<std::uint64_t>()),
                o["digest"].get<std::string>().c_str());
  }
  std::fflush(stdout);
}

}  // namespace

void add_manifest_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "manifest",
      "What a data dir holds, to compare with another party's: engine version, graph hash, "
      "config, each kind's version and code hash, the journal's records, event-time span and "
      "SHA-256, and per node its output count and wire digest (as `replay --digest`).");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("DIR", *dir, "a data dir (shoal run --data, or a replay's --out)")->required();
  cmd->add_flag("--json", *json,
                "print the manifest as JSON (keys: format, engine_version, "
                "graph_hash, config, kinds, journal, outputs)");
  cmd->callback([dir, json, &result] {
    init_logging(result);
    if (!check_data_dir(*dir, result)) return;
    nlohmann::json m;
    try {
      m = manifest_of(*dir);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << *dir << ": " << e.what() << "\n";
      result.exit_code = 1;
      return;
    }
    if (*json) {
      std::cout << m.dump(2) << "\n";
    } else {
      print_manifest(*dir, m);
    }
  });
}

}  // namespace shoal
