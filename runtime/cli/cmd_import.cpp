// shoal import: a recording made elsewhere (JSONL or CSV, one payload per line or group of
// rows) journaled into a data dir through the same gate live zmq input passes (stream_gate →
// ingest): the same event times, validation and rejections, so `shoal replay` of the dir gives
// what a live engine fed the same payloads over ZeroMQ gives.
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "actors/core/duration.hpp"
#include "messages/decode_error.hpp"
#include "messages/json.hpp"
#include "messages/payloads.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/node_status.hpp"
#include "runtime/sources/stream_gate.hpp"
#include "runtime/store/dir_lock.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {
namespace {

// Nothing runs on an import: the journal is the product.
struct discard_inbox final : node_inbox {
  void event(std::uint64_t, std::int64_t, value_ptr, std::int64_t) override {}
  void watermark(std::int64_t, std::int64_t) override {}
};

// One CSV record's fields (RFC 4180: quoted fields may hold commas, doubled quotes, newlines).
// Returns false at the end of the input.
bool read_csv_record(std::istream& in, std::vector<std::string>& fields, std::size_t& line) {
  fields.clear();
  std::string text;
  if (!std::getline(in, text)) return false;
  ++line;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0;; ++i) {
    if (i == text.size()) {
      if (quoted && std::getline(in, text)) {  // a newline inside quotes
        ++line;
        field += '\n';
        i = std::size_t(-1);
        continue;
      }
      break;
    }
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r' || i + 1 != text.size()) {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return true;
}

// A CSV cell as a Value: an integer, a number (NaN and inf included: validation judges them),
// true/false, else the text. Empty: absent.
std::optional<Value> csv_value(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long i = std::stoll(s, &used);
    if (used == s.size()) return Value(static_cast<std::int64_t>(i));
  } catch (const std::exception&) {
  }
  try {
    const double d = std::stod(s, &used);
    if (used == s.size()) return Value(d);
  } catch (const std::exception&) {
  }
  if (s == "true" || s == "false") return Value(s == "true");
  return Value(s);
}

struct import_counts {
  std::uint64_t lines = 0, events = 0, rejected = 0;
  std::map<std::string, std::uint64_t> by_kind;
  std::vector<std::string> named;  // "line N: kind: why", the first ones
};

}  // namespace

void add_import_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "import",
      "Journal a recording made elsewhere (JSONL or CSV) into a data dir, validated like live "
      "input, for `shoal replay`.");
  struct options {
    std::string file, stream, out, format, schema, max_future = "1m", report;
    std::size_t show = 20;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("FILE", o->file, "the recording: one JSON payload per line, or CSV")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--stream", o->stream, "the stream it feeds: SOURCE.STREAM, e.g. market.scan")
      ->required();
  cmd->add_option("--out", o->out,
                  "data dir to create or add to (another stream's import, or an earlier part)")
      ->required();
  cmd->add_option("--format", o->format, "jsonl or csv (default: by FILE's extension)")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--schema", o->schema,
                  "payload validation: scan, ob, books, posture, esof, acb, mc or any (default: "
                  "the stream's name when it is one of these, else any)");
  cmd->add_option("--max-future", o->max_future,
                  "reject an event later than max(the stream's progress, now) + this, as a zmq "
                  "source does (0s: no bound)")
      ->capture_default_str();
  cmd->add_option("--show", o->show, "name at most this many rejected lines")
      ->capture_default_str();
  cmd->add_option("--report", o->report, "write the counts and the rejected lines as JSON");
  cmd->callback([o, &result] {
    init_logging(result);
    auto usage = [&](const std::string& why) {
      std::cerr << "shoal: " << why << "\n";
      result.exit_code = 2;
    };
    const auto dot = o->stream.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == o->stream.size())
      return usage("--stream " + o->stream + ": expected SOURCE.STREAM (e.g. market.scan)");
    source_decl decl;
    decl.name = o->stream.substr(0, dot);
    stream_decl st;
    st.name = o->stream.substr(dot + 1);
    st.time = stream_time::payload;  // a recording carries its event times
    st.schema = !o->schema.empty()         ? o->schema
                : is_known_schema(st.name) ? st.name
                                           : std::string("any");
    if (st.schema != "books" && !is_known_schema(st.schema))
      return usage("--schema " + st.schema +
                   ": unknown (scan, ob, books, posture, esof, acb, mc or any)");
    try {
      decl.max_future_ns = parse_duration_ns(o->max_future);
    } catch (const std::exception& e) {
      return usage("--max-future: " + std::string(e.what()));
    }
    decl.streams.push_back(st);
    const bool csv = o->format.empty()
                         ? o->file.size() > 4 && o->file.compare(o->file.size() - 4, 4, ".csv") == 0
                         : o->format == "csv";
    if (!check_output_path("--out", o->out, true, result)) return;
    if (!o->report.empty() && !check_output_path("--report", o->report, false, result)) return;
    std::ifstream in(o->file, std::ios::binary);
    if (!in) return usage(o->file + ": cannot read");

    std::unique_ptr<dir_lock> lock;
    try {
      lock = std::make_unique<dir_lock>(o->out);
    } catch (const std::exception& e) {
      return usage(e.what());
    }
    const bool existed = store::exists(o->out);
    store db(o->out, true);
    store_writer writer(db);
    flow_control flow;
    auto board = std::make_shared<status_board>();
    std::map<std::string, ingest_target, std::less<>> targets;
    const std::string name = decl.name + "." + st.name;
    node_report report;
    report.names = {name};
    report.kind = "import";
    targets[name] = {std::make_shared<discard_inbox>(), board->add(report)};
    ingest gate_in(std::move(targets), &writer, flow, board);
    gate_in.resume_from(db);  // an earlier import into this dir: seqs continue
    stream_gate gate(decl, gate_in, system_clock(), false, false);

    import_counts n;
    auto reject = [&](std::size_t line, std::string raw, const std::string& kind,
                      const std::string& why) {
      ++n.rejected;
      ++n.by_kind[kind];
      const std::string named = "line " + std::to_string(line) + ": " + kind + ": " + why;
      if (n.named.size() < o->show) n.named.push_back(named);
      gate.reject(0, std::move(raw), kind, "line " + std::to_string(line) + ": " + why);
    };
    auto offer = [&](std::size_t line, const std::string& raw, Value payload) {
      try {
        gate.payload(0, std::move(payload));
        ++n.events;
      } catch (const decode_error& e) {
        reject(line, raw, to_string(e.kind()), e.what());
      }
    };
    const decode_limits limits;
    if (!csv) {
      std::string text;
      while (std::getline(in, text)) {
        ++n.lines;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
          // "[json.exception.parse_error.101] parse error at line 1, column 20: …": the file's
          // line is named already; the column is what helps.
          std::string why = e.what();
          why = why.substr(why.find(' ') + 1);
          if (const auto at = why.find("at line 1, column"); at != std::string::npos)
            why.replace(at, 11, "at ");
          reject(n.lines, text, "malformed_json", why);
          continue;
        }
        try {
          offer(n.lines, text, from_json(j, limits));
        } catch (const decode_error& e) {
          reject(n.lines, text, to_string(e.kind()), e.what());
        }
      }
    } else {
      // A header, then one payload per row — or, with columns named `x[]`, one per run of rows
      // with the same ts, each x[] column a list (`assets[]`, `prices[]`: a scan).
      std::vector<std::string> header, row;
      std::size_t line = 0;
      if (!read_csv_record(in, header, line)) return usage(o->file + ": empty CSV (no header)");
      n.lines = line;
      std::size_t ts_col = header.size();
      std::vector<bool> is_list(header.size());
      for (std::size_t c = 0; c < header.size(); ++c) {
        if (header[c] == "ts") ts_col = c;
        if (header[c].size() > 2 && header[c].compare(header[c].size() - 2, 2, "[]") == 0) {
          is_list[c] = true;
          header[c].resize(header[c].size() - 2);
        }
      }
      const bool grouped = std::find(is_list.begin(), is_list.end(), true) != is_list.end();
      value_map group;
      std::string group_ts, group_raw;
      std::size_t group_line = 0;
      auto flush = [&] {
        if (group_line) offer(group_line, group_raw, Value(std::move(group)));
        group = value_map{};
        group_raw.clear();
        group_line = 0;
      };
      while (read_csv_record(in, row, line)) {
        n.lines = line;
        if (row.size() == 1 && row[0].empty()) continue;  // a blank line
        std::string raw;
        for (std::size_t c = 0; c < row.size(); ++c) raw += (c ? "," : "") + row[c];
        if (row.size() != header.size()) {
          flush();
          reject(line, raw, "wrong_type",
                 std::to_string(row.size()) + " fields where the header has " +
                     std::to_string(header.size()));
          continue;
        }
        const std::string ts = ts_col < row.size() ? row[ts_col] : "";
        if (!grouped || ts != group_ts || !group_line) flush();
        if (!group_line) {
          group_line = line;
          group_ts = ts;
        }
        group_raw += (group_raw.empty() ? "" : "\n") + raw;
        for (std::size_t c = 0; c < row.size(); ++c) {
          auto v = csv_value(row[c]);
          if (is_list[c]) {
            auto& list = group[header[c]];
            if (!list.is_list()) list = Value(value_list{});
            std::get<value_list>(list.v).push_back(v ? std::move(*v) : Value());
          } else if (v && !group.count(header[c])) {
            group[header[c]] = std::move(*v);
          }
        }
        if (!grouped) flush();
      }
      flush();
    }
    if (!existed) writer.put_meta(store::controls_meta, "0");  // no runtime changes in it
    writer.flush();  // the records and the meta, in the order queued
    writer.stop();

    std::cerr << "imported " << n.events << " events from " << o->file << " into " << o->out
              << " (stream " << name << ", schema " << st.schema << ")";
    if (n.rejected) {
      std::cerr << "; rejected " << n.rejected << " (";
      bool first = true;
      for (const auto& [kind, count] : n.by_kind) {
        std::cerr << (first ? "" : ", ") << count << " " << kind;
        first = false;
      }
      std::cerr << "):\n";
      for (const auto& s : n.named) std::cerr << "  " << s << "\n";
      if (n.rejected > n.named.size())
        std::cerr << "  … and " << (n.rejected - n.named.size()) << " more (--show N)\n";
    } else {
      std::cerr << "\n";
    }
    if (!o->report.empty()) {
      nlohmann::json j = {{"file", o->file},          {"stream", name},
                          {"events", n.events},       {"rejected", n.rejected},
                          {"lines", n.lines},         {"rejected_by_kind", n.by_kind},
                          {"rejected_lines", n.named}};
      std::ofstream(o->report) << j.dump(2) << "\n";
    }
    if (n.events == 0) result.exit_code = 1;  // nothing usable in FILE
  });
}

}  // namespace shoal
