// The config half of the cluster_node source kind (its emission: cluster_node_source.cpp).
#include "messages/utc_time.hpp"
#include "runtime/graph/detail/cluster_section.hpp"
#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/sources/source_kinds.hpp"

namespace shoal {

void parse_cluster_node_config(detail::table_reader& r, source_decl& s) {
  if (r.get("idle_timeout"))
    r.fail(
        "idle_timeout",
        "a cluster_node stream gets no idle watermark: a bucket closes at the node's next output");
  s.engine = r.required_str("engine");
  if (!detail::plain_token(s.engine))
    r.fail("engine",
           "must be the other engine's [cluster] engine_id: 1-64 letters, digits, '-' or '_'");
  if (const toml::value* v = r.get("from")) {
    const auto t = v->is_string() ? parse_utc_time(v->as_string().str) : std::nullopt;
    if (!t)
      r.fail("from",
             "must be a time in quotes: ISO-8601 UTC (\"2026-12-07T14:00:00Z\") or ns since the "
             "epoch (\"1796652000000000000\")");
    s.from_bucket = *t;
  }
  s.streams = parse_stream_tables(r, s.name, true);
  if (s.streams.empty())
    r.fail("stream",
           "a cluster_node source declares each node it follows with [[source.stream]] (name, "
           "node)");
  for (auto& st : s.streams) {
    // One output per bucket, stamped with the bucket, as a zmq source of format "output".
    st.one_per_bucket = true;
    st.time = stream_time::payload;
  }
  // The other engine's event time is the one: no bound on its jumps ahead of this wall clock
  // (a simulation runs ahead of it), and no idle watermark (cluster_node_source.cpp).
  s.max_future_ns = 0;
  // What the streams carry: that engine's nodes (each stream's own NodeID is hashed with it,
  // plan.cpp), not the servers they are read through.
  s.params = value_map{{"engine", Value(s.engine)}};
  // Where a new dir's streams start is part of what they carry.
  if (s.from_bucket) s.params.emplace("from", Value(*s.from_bucket));
}

}  // namespace shoal
