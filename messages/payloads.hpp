#pragma once
// Domain payload schemas (design §3) and their validation, plus the asset-keyed vector
// helpers kernels use to read scans and vector outputs by asset name.
//
// A validator returns normally or throws decode_error naming the field relative to the
// payload ("prices[3]", "bid_qty[0]"); a payload that is not a map is reported as field
// "payload". Numbers: where a double is expected an int is accepted; where an int is
// expected a double is not. Numeric arrays may be an f64_vector or a list of numbers
// (on the wire, an array holding any int decodes as a list — see msgpack_codec.hpp).
// Keys a schema does not name are allowed (producers may add fields).
//
//   scan    {scan_number: int, assets: [str], prices: [f64]}
//           prices finite and > 0 (non_finite / negative at "prices[i]"), one per asset
//           (length_mismatch at "prices"), asset names unique (duplicate_key at "assets[i]").
//   ob      {asset: str, bid_px, bid_qty, ask_px, ask_qty: [f64]} best level first;
//           px finite and > 0, qty finite and >= 0; bid_px/bid_qty and ask_px/ask_qty of
//           equal length (length_mismatch at the qty field); empty books are allowed.
//   posture {posture: APEX|STALKER|TURTLE|HIBERNATE}  (out_of_range otherwise)
//   esof    {score: finite in [-1, 1], label: str}
//   acb     {boost: finite, beta: finite, stress: int 0..3}
//   mc      {status: GREEN|ORANGE|RED, scale: finite}

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/value.hpp"

namespace shoal {

void validate_scan(const Value& payload);
void validate_ob(const Value& payload);
void validate_posture(const Value& payload);
void validate_esof(const Value& payload);
void validate_acb(const Value& payload);
void validate_mc(const Value& payload);

// Dispatch by schema name: "scan", "ob", "posture", "esof", "acb", "mc", or "any" (no
// check). An unknown name is a configuration bug, not bad input: std::invalid_argument.
void validate_payload(std::string_view schema, const Value& payload);
// Whether validate_payload knows the name (lets config loading reject typos up front).
bool is_known_schema(std::string_view schema);

// Asset-keyed numbers in input order.
struct asset_series {
  std::vector<std::string> assets;
  std::vector<double> values;
};

// Reads a scan {assets, prices} or a vector output {assets, values} (design §8). Shape:
// a map whose "assets" is a list of strings and whose "prices" (preferred when both are
// present) or "values" is a numeric array of the same length; otherwise returns false and
// leaves out empty. Entries that carry no usable number are skipped: non-finite values,
// and for scans also prices <= 0.
bool read_asset_series(const Value& v, asset_series& out);

// The same, as name → value; when a name repeats the first usable entry wins.
bool read_asset_values(const Value& v, std::map<std::string, double, std::less<>>& out);

// {assets: [names in order], values: f64_vector} — the vector output of design §8.
Value make_asset_values(const std::map<std::string, double, std::less<>>& values);

}  // namespace shoal
