// Writes the seed corpora of the msgpack, journal and snapshot targets from shoal's own
// encoders, so the seeds are exactly what the engine writes: `fuzz_seed_corpus DIR` fills
// DIR/msgpack_payload, DIR/journal_record and DIR/snapshot_request (run from scripts/fuzz
// --seeds; the files are committed). The admin and config seeds are text, written by hand.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "messages/journal_record.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/transport/snapshot_request.hpp"

namespace {

namespace fs = std::filesystem;
using shoal::Value;
using shoal::value_list;
using shoal::value_map;

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Value strings(std::vector<std::string> xs) {
  value_list l;
  for (auto& x : xs) l.emplace_back(std::move(x));
  return Value(std::move(l));
}

Value scan(int number, int assets) {
  std::vector<std::string> names;
  shoal::f64_vector prices;
  for (int i = 0; i < assets; ++i) {
    names.push_back("A" + std::to_string(i));
    prices.push_back(100.0 + i * 0.5);
  }
  return Value(value_map{{"assets", strings(names)},
                         {"prices", Value(std::move(prices))},
                         {"scan_number", Value(number)}});
}

Value book(const std::string& asset, int levels) {
  shoal::f64_vector bid_px, bid_qty, ask_px, ask_qty;
  for (int i = 0; i < levels; ++i) {
    bid_px.push_back(99.5 - i * 0.1);
    bid_qty.push_back(1.0 + i);
    ask_px.push_back(100.5 + i * 0.1);
    ask_qty.push_back(2.0 + i);
  }
  return Value(value_map{{"ask_px", Value(ask_px)},
                         {"ask_qty", Value(ask_qty)},
                         {"asset", Value(asset)},
                         {"bid_px", Value(bid_px)},
                         {"bid_qty", Value(bid_qty)}});
}

// Valid payloads of every schema and node output shape, then near misses of each rule.
std::vector<std::pair<std::string, Value>> payloads() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<std::string, Value>> p;
  p.emplace_back("scan_1", scan(1, 1));
  p.emplace_back("scan_5", scan(7, 5));
  p.emplace_back("scan_int_prices",
                 Value(value_map{{"assets", strings({"X", "Y"})},
                                 {"prices", Value(value_list{Value(100), Value(101.5)})},
                                 {"scan_number", Value(3)}}));
  p.emplace_back("scan_empty", Value(value_map{{"assets", Value(value_list{})},
                                               {"prices", Value(value_list{})},
                                               {"scan_number", Value(0)}}));
  p.emplace_back("ob_5_levels", book("BTC", 5));
  p.emplace_back("ob_empty", book("ETH", 0));
  for (const char* posture : {"APEX", "STALKER", "TURTLE", "HIBERNATE"})
    p.emplace_back(std::string("posture_") + posture,
                   Value(value_map{{"posture", Value(posture)}}));
  p.emplace_back("esof", Value(value_map{{"label", Value("FAVORABLE")}, {"score", Value(0.42)}}));
  p.emplace_back(
      "acb", Value(value_map{{"beta", Value(0.85)}, {"boost", Value(1.55)}, {"stress", Value(1)}}));
  for (const char* status : {"GREEN", "ORANGE", "RED"})
    p.emplace_back(std::string("mc_") + status,
                   Value(value_map{{"scale", Value(1.0)}, {"status", Value(status)}}));
  p.emplace_back("vector_output",
                 Value(value_map{{"assets", strings({"A0", "A1", "A2"})},
                                 {"values", Value(shoal::f64_vector{0.1, -0.2, 0.3})}}));
  p.emplace_back("scanner_output",
                 Value(value_map{{"lambda_max", Value(shoal::f64_vector{3.2, 2.9})},
                                 {"mean_return", Value(0.0004)},
                                 {"n_assets", Value(value_list{Value(48), Value(48)})},
                                 {"regime", Value("SIDEWAYS")},
                                 {"vel_div", Value(-0.01)},
                                 {"windows", Value(value_list{Value(50), Value(150)})}}));
  // Near misses: each breaks one rule of payloads.hpp.
  Value s = scan(2, 3);
  s.as_map()["prices"] = Value(shoal::f64_vector{100.0, -1.0, 102.0});
  p.emplace_back("scan_negative_price", s);
  s.as_map()["prices"] = Value(shoal::f64_vector{100.0, 101.0});
  p.emplace_back("scan_length_mismatch", s);
  s.as_map()["assets"] = strings({"A", "A"});
  p.emplace_back("scan_duplicate_asset", s);
  Value b = book("SOL", 2);
  b.as_map()["bid_qty"] = Value(shoal::f64_vector{1.0});
  p.emplace_back("ob_length_mismatch", b);
  p.emplace_back("posture_unknown", Value(value_map{{"posture", Value("BOLD")}}));
  p.emplace_back("esof_out_of_range",
                 Value(value_map{{"label", Value("NEUTRAL")}, {"score", Value(1.5)}}));
  p.emplace_back(
      "acb_stress_4",
      Value(value_map{{"beta", Value(0.25)}, {"boost", Value(1.0)}, {"stress", Value(4)}}));
  p.emplace_back("mc_nan_scale",
                 Value(value_map{{"scale", Value(nan)}, {"status", Value("GREEN")}}));
  p.emplace_back("nested", Value(value_list{Value(value_list{Value(value_map{
                               {"a", Value(value_list{Value(), Value(true), Value(-5)})}})})}));
  p.emplace_back("scalars", Value(value_list{Value(), Value(false), Value(std::int64_t{-1} << 40),
                                             Value(std::numeric_limits<std::int64_t>::max()),
                                             Value(1e300), Value("text")}));
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];

  const fs::path msgpack = root / "msgpack_payload";
  for (const auto& [name, v] : payloads()) put(msgpack, name, shoal::to_msgpack(v));
  // Frames no Value holds, and broken framing.
  put(msgpack, "float32_array", std::string("\x92\xca\x42\xc8\x00\x00\xca\x42\xca\x00\x00", 11));
  put(msgpack, "bin",
      std::string("\xc4\x03"
                  "abc",
                  5));
  put(msgpack, "ext", std::string("\xd4\x01\x02", 3));
  put(msgpack, "uint64_max", std::string("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9));
  put(msgpack, "map_int_key", std::string("\x81\x01\x02", 3));
  put(msgpack, "map_duplicate_key",
      std::string("\x82\xa1"
                  "a\x01\xa1"
                  "a\x02",
                  7));
  put(msgpack, "array_claims_4g", std::string("\xdd\xff\xff\xff\xff\x01", 6));
  put(msgpack, "never_used_c1", std::string("\xc1", 1));

  const fs::path journal = root / "journal_record";
  std::int64_t ts = 1'700'000'000'000'000'000;
  std::uint64_t seq = 1;
  for (const auto& [name, v] : payloads()) {
    if (name.rfind("scan_", 0) == 0 || name.rfind("ob_", 0) == 0 || name == "esof" ||
        name == "acb") {
      put(journal, "event_" + name,
          shoal::encode_event(
              {"market." + name.substr(0, name.find('_')), seq++, ts, shoal::make_value(v)}));
    }
  }
  put(journal, "watermark", shoal::encode_watermark({"market.scan", ts, false}));
  put(journal, "watermark_idle", shoal::encode_watermark({"market.ob", ts + 2'000'000'000, true}));
  put(journal, "watermark_negative_ts", shoal::encode_watermark({"s", -1'000'000'000, false}));
  put(journal, "rejected",
      shoal::encode_rejected({"market.scan", ts, "\xc1", "not_msgpack", 0, ""}));
  put(journal, "rejected_truncated",
      shoal::encode_rejected(
          {"market.scan", ts, std::string(64, 'x'), "oversized", 1 << 20, std::string(64, 'a')}));
  put(journal, "control_time_mode",
      shoal::encode_control({"time_mode", "market.scan", value_map{{"mode", Value("payload")}}}));
  put(journal, "control_submit",
      shoal::encode_control(
          {"submit", "",
           value_map{{"name", Value("s")}, {"text", Value("[strategy]\nname = \"s\"\n")}}}));
  put(journal, "control_remove",
      shoal::encode_control({"remove", "", value_map{{"name", Value("s")}}}));
  put(journal, "control_restart",
      shoal::encode_control(
          {"restart", "", value_map{{"node", Value("z")}, {"fresh", Value(true)}}}));
  const std::string id(64, 'f');
  put(journal, "output_nil", shoal::encode_output({"z", id, ts, 1, shoal::make_value(Value())}));
  put(journal, "output_vector",
      shoal::encode_output({"ret", id, ts, 42, shoal::make_value(payloads()[0].second)}));
  put(journal, "output_posture",
      shoal::encode_output({"posture", id, -ts, 7,
                            shoal::make_value(Value(value_map{{"posture", Value("APEX")}}))}));

  const fs::path snapshot = root / "snapshot_request";
  put(snapshot, "topic_n10", shoal::encode_snapshot_request({"z", 10}));
  put(snapshot, "topic_n0", shoal::encode_snapshot_request({"market.scan", 0}));
  put(snapshot, "topic_nmax", shoal::encode_snapshot_request({"strategy.sizing", 100'000}));
  put(snapshot, "n_too_big",
      shoal::to_msgpack(Value(value_map{{"n", Value(100'001)}, {"topic", Value("z")}})));
  put(snapshot, "n_negative",
      shoal::to_msgpack(Value(value_map{{"n", Value(-1)}, {"topic", Value("z")}})));
  put(snapshot, "n_double",
      shoal::to_msgpack(Value(value_map{{"n", Value(2.0)}, {"topic", Value("z")}})));
  put(snapshot, "topic_int",
      shoal::to_msgpack(Value(value_map{{"n", Value(1)}, {"topic", Value(5)}})));
  put(snapshot, "extra_key",
      shoal::to_msgpack(
          Value(value_map{{"n", Value(3)}, {"since", Value(9)}, {"topic", Value("z")}})));
  put(snapshot, "not_a_map", shoal::to_msgpack(Value(value_list{Value("z"), Value(1)})));
  put(snapshot, "missing_n", shoal::to_msgpack(Value(value_map{{"topic", Value("z")}})));
  return 0;
}
