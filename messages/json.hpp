#pragma once
// JSON views of Values and Outputs, for the admin socket and exports (MessagePack stays the
// wire format; JSON is for humans and tools).
//
// to_json: nil → null, bool, int → integer, double → float (JSON has no NaN/inf;
// nlohmann dumps them as null), string, f64_vector and list → array, map → object.
// from_json mirrors from_msgpack's rules: integers → int64 (above INT64_MAX → out_of_range),
// floats → double (non-finite → non_finite unless allowed), an array → f64_vector when
// it is non-empty and every element is a float, else a list; object → map; nesting
// deeper than limits.max_depth → too_deep (max_bytes does not apply). Errors are
// decode_error naming the path.
//
// Strings are copied byte for byte. nlohmann's dump() throws on invalid UTF-8, and
// MessagePack input is not checked for UTF-8, so dump untrusted values with
// nlohmann::json::error_handler_t::replace.

#include <nlohmann/json.hpp>

#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "messages/value.hpp"

namespace shoal {

nlohmann::json to_json(const Value& v);
Value from_json(const nlohmann::json& j, const decode_limits& limits = {});

// {"node", "id", "bucket", "seq", "value"}; a null value_ptr becomes null.
nlohmann::json to_json(const Output& o);

}  // namespace shoal
