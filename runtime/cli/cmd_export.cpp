#include <charconv>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>

#include "messages/journal_record.hpp"
#include "messages/json.hpp"
#include "messages/tidy_rows.hpp"
#include "messages/utc_time.hpp"
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

// A CSV cell: numbers as the shortest text that reads back to the same double (NaN, inf, -inf
// as pandas reads them), null empty, strings quoted only when they must be, lists and maps as
// quoted JSON.
std::string csv_cell(const Value& v) {
  if (v.is_nil()) return "";
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_double()) {
    const double d = v.as_double();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, end);
  }
  if (v.is_string()) {
    const std::string& s = v.as_string();
    return s.find_first_of(",\"\r\n") == std::string::npos ? s : csv(s);
  }
  return csv(dump(to_json(v)));
}

std::string column_name(const std::string* asset, const std::string& field) {
  return asset ? field + "[" + *asset + "]" : field;
}

// Which outputs an export prints: --node (a name or a NodeID), --from/--to (bucket, inclusive).
struct output_filter {
  std::string node;
  std::int64_t from = INT64_MIN, to = INT64_MAX;
  bool operator()(const Output& o) const {
    return (node.empty() || o.node == node || o.id == node) && o.bucket >= from && o.bucket <= to;
  }
};

void export_outputs(const store& db, const output_filter& keep, bool is_csv, bool tidy) {
  auto each = [&](const std::function<void(const Output&)>& f) {
    db.for_each_output([&](std::string_view, std::int64_t, std::string_view bytes) {
      Output out = decode_output(bytes, stored_data_limits());
      if (keep(out)) f(out);
    });
  };
  if (tidy) {
    if (is_csv) std::cout << "bucket,node,seq,asset,field,value\n";
    each([&](const Output& out) {
      const std::string bucket = utc_time_ns(out.bucket);
      for_each_tidy_row(out.value ? *out.value : Value(),
                        [&](const std::string* asset, const std::string& field, const Value& v) {
                          if (!is_csv) {
                            nlohmann::json row = {
                                {"bucket", bucket},
                                {"node", out.node},
                                {"seq", out.seq},
                                {"asset", asset ? nlohmann::json(*asset) : nlohmann::json(nullptr)},
                                {"field", field},
                                {"value", to_json(v)}};
                            std::cout << dump(row) << "\n";
                            return;
                          }
                          std::cout << bucket << "," << csv_cell(Value(out.node)) << "," << out.seq
                                    << "," << (asset ? csv_cell(Value(*asset)) : "") << ","
                                    << csv_cell(Value(field)) << "," << csv_cell(v) << "\n";
                        });
    });
    return;
  }
  if (!is_csv) {
    each([](const Output& out) { std::cout << dump(to_json(out)) << "\n"; });
    return;
  }
  // A flattened CSV: one column per (field, asset) any selected output has, in the order they
  // first appear — so a first pass finds them.
  std::vector<std::string> columns;
  std::map<std::string, std::size_t, std::less<>> index;
  each([&](const Output& out) {
    for_each_tidy_row(out.value ? *out.value : Value(),
                      [&](const std::string* asset, const std::string& field, const Value&) {
                        auto name = column_name(asset, field);
                        if (index.emplace(name, columns.size()).second)
                          columns.push_back(std::move(name));
                      });
  });
  std::cout << "bucket,node,id,seq";
  for (const auto& c : columns) std::cout << "," << csv_cell(Value(c));
  std::cout << "\n";
  std::vector<std::string> cells(columns.size());
  each([&](const Output& out) {
    std::fill(cells.begin(), cells.end(), std::string());
    for_each_tidy_row(out.value ? *out.value : Value(),
                      [&](const std::string* asset, const std::string& field, const Value& v) {
                        cells[index.find(column_name(asset, field))->second] = csv_cell(v);
                      });
    std::cout << utc_time_ns(out.bucket) << "," << csv_cell(Value(out.node)) << "," << out.id << ","
              << out.seq;
    for (const auto& c : cells) std::cout << "," << c;
    std::cout << "\n";
  });
}

}  // namespace

void add_export_command(CLI::App& app, cli_result& result) {
  auto* cmd =
      app.add_subcommand("export", "Print a data dir's journal or outputs as JSONL or CSV.");
  struct options {
    std::string dir, format = "jsonl", node, from, to;
    bool journal = false, outputs = false, tidy = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("DIR", o->dir, "data dir")->required();
  auto* j = cmd->add_flag("--journal", o->journal, "journal records in ingest order");
  auto* out = cmd->add_flag("--outputs", o->outputs, "outputs in (node id, bucket) order");
  j->excludes(out);
  cmd->add_option("--format", o->format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->add_option("--node", o->node, "outputs: only this node's (a name or a NodeID)");
  cmd->add_option("--from", o->from,
                  "outputs: buckets from this time on (ns, or ISO-8601 UTC: 2026-01-01T00:00:01Z)");
  cmd->add_option("--to", o->to, "outputs: buckets up to this time, included");
  cmd->add_flag("--tidy", o->tidy,
                "outputs: one row per number (bucket,node,seq,asset,field,value): a vector "
                "output gives a row per asset (docs/clients.md)");
  cmd->callback([o, &result] {
    init_logging(result);
    if (o->journal == o->outputs) {
      std::cerr << "shoal: export needs --journal or --outputs\n";
      result.exit_code = 2;
      return;
    }
    if (o->journal && (o->tidy || !o->node.empty() || !o->from.empty() || !o->to.empty())) {
      std::cerr << "shoal: --node, --from, --to and --tidy select outputs: use them with "
                   "--outputs\n";
      result.exit_code = 2;
      return;
    }
    output_filter keep{o->node};
    if (const auto t = parse_time_option("--from", o->from, result)) keep.from = *t;
    if (const auto t = parse_time_option("--to", o->to, result)) keep.to = *t;
    if (result.exit_code) return;
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
      export_outputs(*db, keep, is_csv, o->tidy);
    }
  });
}

}  // namespace shoal
