// The config half of the zmq source kind (its emission: zmq_source.cpp).
#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/graph/endpoints.hpp"
#include "runtime/graph/z85_key.hpp"
#include "runtime/sources/source_kinds.hpp"

#include <filesystem>

namespace shoal {

void parse_zmq_config(detail::table_reader& r, source_decl& s) {
  s.connect = r.str_list("connect");
  if (s.connect.empty()) r.fail("connect", "a zmq source needs at least one endpoint");
  for (const auto& c : s.connect)
    if (auto why = zmq_endpoint_problem(c, endpoint_role::connect); !why.empty())
      r.fail("connect", why);
  s.streams = parse_stream_tables(r, s.name);
  if (s.streams.empty())
    r.fail("stream", "a zmq source declares its streams with [[source.stream]]");
  if (auto f = r.str("format")) {
    auto format = parse_zmq_format(*f);
    if (!format)
      r.fail("format",
             "must be \"event\" ([stream][payload]) or \"output\" (another engine's outputs)");
    s.format = *format;
  }
  const bool outputs = s.format == zmq_format::output;
  if (auto snap = r.str("snapshot")) {
    if (auto why = zmq_endpoint_problem(*snap, endpoint_role::connect); !why.empty())
      r.fail("snapshot", why);
    s.snapshot = *snap;
  }
  if (auto n = r.integer("catch_up")) {
    if (*n < 0 || *n > 100'000) r.fail("catch_up", "must be in [0, 100000]");
    s.catch_up = *n;
  }
  if ((!s.snapshot.empty() || s.catch_up > 0) && !outputs)
    r.fail("snapshot", "snapshot and catch_up need format = \"output\"");
  if (const toml::value* c = r.get("curve")) {
    if (!c->is_table())
      r.fail("curve", "must be a table { secret_key_file = \"...\", server_key = \"Z85\" }");
    detail::table_reader cr(*c, r.doc(), r.path("curve"));
    const std::string file = cr.required_str("secret_key_file");
    s.curve_secret_key_file = std::filesystem::path(file).is_relative()
                                  ? (std::filesystem::path(r.doc().path()).parent_path() / file)
                                        .lexically_normal()
                                        .string()
                                  : file;
    s.curve_server_key = cr.required_str("server_key");
    if (!is_z85_key(s.curve_server_key))
      cr.fail("server_key",
              "must be the server's public key: 40 Z85 characters (`shoal keys show`)");
    cr.finish();
  }
  if (auto d = r.duration("max_future")) s.max_future_ns = *d;
  if (auto d = r.duration("allowed_lateness")) s.allowed_lateness_ns = *d;
  if (outputs)
    for (auto& st : s.streams) {
      // A shoal engine emits one output per bucket and stamps it with the bucket.
      st.one_per_bucket = true;
      st.time = stream_time::payload;
    }
  value_list eps;
  for (const auto& c : s.connect) eps.emplace_back(c);
  s.params = value_map{{"connect", Value(std::move(eps))}, {"format", Value(to_string(s.format))}};
}

}  // namespace shoal
