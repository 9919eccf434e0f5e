#include <iostream>
#include <map>

#include "actors/core/duration.hpp"
#include "actors/core/params.hpp"
#include "messages/journal_record.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/sources/fabricator_config.hpp"
#include "runtime/sources/fabricator_feed.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

void add_fabricate_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "fabricate", "Write a fabricator source's journal directly (same arguments, same journal).");
  struct options {
    fabricator_settings f;
    std::int64_t buckets = 1000;
    std::string interval = "1s", out, source = "market";
    bool no_books = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("--seed", o->f.seed, "PRNG seed")->capture_default_str();
  cmd->add_option("--assets", o->f.assets, "number of assets")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--buckets", o->buckets, "number of buckets")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000'000));
  cmd->add_option("--interval", o->interval, "bucket width")->capture_default_str();
  cmd->add_option("--levels", o->f.levels, "order-book depth")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  cmd->add_option("--start", o->f.start, "unix seconds of the first bucket")->capture_default_str();
  cmd->add_option("--source", o->source, "source name: streams are SOURCE.scan and SOURCE.ob")
      ->capture_default_str();
  cmd->add_flag("--no-books", o->no_books,
                "scans only (the same scans as with books; the source says books = false)");
  cmd->add_option("--out", o->out, "data dir to create")->required();
  cmd->callback([o, &result] {
    init_logging(result);
    std::int64_t interval = 0;
    try {
      interval = parse_duration_ns(o->interval);
    } catch (const std::exception& e) {
      std::cerr << "shoal: --interval: " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    if (!check_output_path("--out", o->out, true, result)) return;
    if (store::exists(o->out)) {
      std::cerr << "shoal: --out " << o->out << " already holds data; choose a new dir\n";
      result.exit_code = 2;
      return;
    }
    store db(o->out, true);
    store_writer w(db);
    o->f.books = !o->no_books;
    // The same feed as a live fabricator source, its records journaled as ingest would.
    struct journal_sink final : record_sink {
      store_writer& w;
      std::map<std::string, std::uint64_t> seqs;
      std::uint64_t records = 0;
      explicit journal_sink(store_writer& writer) : w(writer) {}
      bool event(const std::string& stream, std::int64_t ts, value_ptr payload,
                 std::optional<std::uint64_t>, std::int64_t) override {
        w.append_journal(encode_event(Event{stream, ++seqs[stream], ts, std::move(payload)}));
        ++records;
        return true;
      }
      bool watermark(const std::string& stream, std::int64_t ts) override {
        w.append_journal(encode_watermark(Watermark{stream, ts}));
        ++records;
        return true;
      }
    } sink(w);
    fabricator_feed feed(o->source, o->f.params(), interval);
    for (std::int64_t k = 0; k < o->buckets; ++k) feed.emit_next(sink);
    const std::uint64_t records = sink.records, scan_seq = sink.seqs[feed.scan_stream()],
                        ob_seq = sink.seqs[feed.ob_stream()];
    // The config a replay without --config uses: the same fabricator source, no nodes.
    const std::string toml =
        "[engine]\nname = \"fabricated\"\n\n[[source]]\nname = \"" + o->source +
        "\"\nkind = \"fabricator\"\nseed = " + std::to_string(o->f.seed) +
        "\nassets = " + std::to_string(o->f.assets) + "\nlevels = " + std::to_string(o->f.levels) +
        "\nstart = " + std::to_string(o->f.start) + "\ninterval = \"" + o->interval + "\"\n" +
        (o->no_books ? "books = false\n" : "");
    w.put_meta(store::controls_meta, "0");  // a fabricated journal has no runtime changes
    w.put_meta(
        "config",
        to_msgpack(Value(value_map{{"main", Value("engine.toml")},
                                   {"files", Value(value_map{{"engine.toml", Value(toml)}})}})));
    w.flush();
    w.stop();
    std::cerr << "fabricated " << o->buckets << " buckets, " << records << " journal records ("
              << scan_seq << " scans, " << ob_seq << " books) in " << o->out << "\n";
  });
}

}  // namespace shoal
