#include <iostream>

#include "messages/journal_record.hpp"
#include "messages/json.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/journal_json.hpp"
#include "runtime/store/store.hpp"

namespace shoal {
namespace {

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// CSV field: quoted, inner quotes doubled.
std::string csv(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void add_export_command(CLI::App& app, cli_result& result) {
  auto* cmd =
      app.add_subcommand("export", "Print a data dir's journal or outputs as JSONL or CSV.");
  struct options {
    std::string dir, format = "jsonl";
    bool journal = false, outputs = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("DIR", o->dir, "data dir")->required();
  auto* j = cmd->add_flag("--journal", o->journal, "journal records in ingest order");
  auto* out = cmd->add_flag("--outputs", o->outputs, "outputs in (node id, bucket) order");
  j->excludes(out);
  cmd->add_option("--format", o->format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->callback([o, &result] {
    init_logging(result);
    if (o->journal == o->outputs) {
      std::cerr << "shoal: export needs --journal or --outputs\n";
      result.exit_code = 2;
      return;
    }
    std::unique_ptr<store> db;
    try {
      db = std::make_unique<store>(o->dir, false);
    } catch (const std::exception& e) {
      std::cerr << "shoal: " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    const bool is_csv = o->format == "csv";
    if (o->journal) {
      if (is_csv) std::cout << "ingest,kind,stream,seq,ts,payload\n";
      for (std::uint64_t pos = 0;;) {
        const std::size_t n =
            db->read_journal(pos, 4096, [&](std::uint64_t seq, std::string_view bytes) {
              pos = seq;
              const journal_record r = decode_journal_record(bytes);
              if (!is_csv) {
                std::cout << dump(journal_json(r)) << "\n";
                return;
              }
              std::cout << seq << ",";
              if (const auto* e = std::get_if<Event>(&r))
                std::cout << "event," << e->stream << "," << e->seq << "," << e->ts << ","
                          << csv(dump(to_json(*e->payload)));
              else if (const auto* w = std::get_if<Watermark>(&r))
                std::cout << (w->idle ? "idle_watermark," : "watermark,") << w->stream << ",,"
                          << w->ts << ",";
              else if (const auto* c = std::get_if<Control>(&r))
                std::cout << "control," << c->stream << ",,," << csv(dump(journal_json(r)));
              else
                std::cout << "rejected," << stream_of(r) << ",," << std::get<Rejected>(r).ts << ","
                          << csv(std::get<Rejected>(r).reason);
              std::cout << "\n";
            });
        if (n == 0) break;
      }
    } else {
      if (is_csv) std::cout << "node,id,bucket,seq,value\n";
      db->for_each_output([&](std::string_view, std::int64_t, std::string_view bytes) {
        Output out = decode_output(bytes, stored_data_limits());
        if (!is_csv) {
          std::cout << dump(to_json(out)) << "\n";
        } else {
          std::cout << out.node << "," << out.id << "," << out.bucket << "," << out.seq << ","
                    << csv(dump(to_json(*out.value))) << "\n";
        }
      });
    }
  });
}

}  // namespace shoal
