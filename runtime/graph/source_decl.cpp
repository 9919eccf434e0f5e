#include "runtime/graph/source_decl.hpp"

#include "runtime/graph/enum_names.hpp"

namespace shoal {
namespace {

constexpr enum_names<zmq_format, 2> formats({{{zmq_format::event, "event"},
                                              {zmq_format::output, "output"}}});
// In the order config errors have always listed them.
constexpr enum_names<stream_time, 3> times({{{stream_time::automatic, "auto"},
                                             {stream_time::payload, "payload"},
                                             {stream_time::ingest, "ingest"}}});

}  // namespace

std::optional<zmq_format> parse_zmq_format(std::string_view s) { return formats.parse(s); }
const char* to_string(zmq_format f) { return formats.name(f); }

std::optional<stream_time> parse_stream_time(std::string_view s) { return times.parse(s); }
const char* to_string(stream_time t) { return times.name(t); }
std::string stream_time_choices() { return times.choices(); }

}  // namespace shoal
