#pragma once
// on_missing: what a node does with a bucket in which an input has no value (design §5).
//  - skip: the bucket passes without firing (counted);
//  - fail: the node fails, naming the bucket and port(s);
//  - ffill: the port's last value stands in for the missing one.

#include <optional>
#include <string>
#include <string_view>

namespace shoal {

enum class on_missing { skip, fail, ffill };

// "skip" | "fail" | "ffill"; nullopt for anything else (the config loader reports it).
std::optional<on_missing> parse_on_missing(std::string_view s);
const char* to_string(on_missing m);
// "\"skip\", \"fail\" or \"ffill\"" for config errors.
std::string on_missing_choices();

}  // namespace shoal
