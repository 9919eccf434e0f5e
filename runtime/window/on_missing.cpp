#include "runtime/window/on_missing.hpp"

#include "runtime/graph/enum_names.hpp"

namespace shoal {
namespace {

constexpr enum_names<on_missing, 3> names(
    {{{on_missing::skip, "skip"}, {on_missing::fail, "fail"}, {on_missing::ffill, "ffill"}}});

}  // namespace

std::optional<on_missing> parse_on_missing(std::string_view s) { return names.parse(s); }
const char* to_string(on_missing m) { return names.name(m); }
std::string on_missing_choices() { return names.choices(); }

}  // namespace shoal
