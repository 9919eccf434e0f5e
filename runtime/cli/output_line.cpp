#include "runtime/cli/output_line.hpp"

#include <string>

#include "messages/json.hpp"
#include "messages/utc_time.hpp"

namespace shoal {

void print_output_line(std::ostream& out, const Output& o, bool json, std::size_t width) {
  if (json) {
    out << to_json(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::string v =
        to_json(*o.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (width && v.size() > width) v = v.substr(0, width) + "…";
    out << o.node << "  seq " << o.seq << "  " << utc_time(o.bucket) << "  " << v << "\n";
  }
  out.flush();
}

}  // namespace shoal
