#pragma once
// The source kinds, modelled on the node-kind registry (actors/core/kind_registry.hpp). Each
// kind owns
//  - its config: its keys and defaults, the params hashed into its streams' NodeIDs and its
//    stream declarations (runtime/sources/<kind>_config.cpp: plain C++, compiled into the
//    config library so `shoal plan` and the config fuzzer need no ZeroMQ);
//  - its emission (runtime/sources/<kind>_source.cpp, started by start_source in sources.hpp).

#include <string>
#include <string_view>
#include <vector>

#include "runtime/graph/source_decl.hpp"

namespace shoal {

namespace detail {
class table_reader;
}

struct source_kind_info {
  source_kind kind;
  const char* name;     // the config's `kind`
  const char* summary;  // one line for docs and errors
  // Reads the kind's own keys of a [[source]] table into s (name, kind, interval and
  // idle_timeout are read already): settings, params and streams. Fails through r, naming
  // file:line and the key.
  void (*parse)(detail::table_reader& r, source_decl& s);
};

const std::vector<source_kind_info>& source_kinds();
const source_kind_info* find_source_kind(std::string_view name);
// "fabricator: seeded synthetic ...; zmq: ...; journal: ...", for the unknown-kind error.
std::string source_kind_summaries();

// The kinds' config readers.
void parse_fabricator_config(detail::table_reader& r, source_decl& s);
void parse_zmq_config(detail::table_reader& r, source_decl& s);
void parse_journal_config(detail::table_reader& r, source_decl& s);
void parse_cluster_node_config(detail::table_reader& r, source_decl& s);

// The fabricator's streams: scans (one per bucket) and, with books, order books keyed by asset.
// A journal source replaying a fabricated journal declares the same by default.
std::vector<stream_decl> fabricator_streams(bool books);
// [[source.stream]] tables of a source that declares its streams (zmq, journal, cluster_node;
// nodes: each names the node it carries, `node`, as cluster_node's do).
std::vector<stream_decl> parse_stream_tables(detail::table_reader& r, const std::string& source,
                                             bool nodes = false);

}  // namespace shoal
