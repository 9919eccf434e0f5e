// The config half of the journal source kind (its emission: journal_source.cpp).
#include <filesystem>

#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/sources/source_kinds.hpp"

namespace shoal {

void parse_journal_config(detail::table_reader& r, source_decl& s) {
  // A recorded journal (another data dir) replayed as a live feed; a relative path is relative
  // to the config file.
  std::string path = r.required_str("path");
  if (std::filesystem::path(path).is_relative())
    path = (std::filesystem::path(r.doc().path()).parent_path() / path).lexically_normal().string();
  const std::string from = r.str("source").value_or(s.name);
  if (auto d = r.duration("pace")) s.pace_ns = *d;
  s.streams = parse_stream_tables(r, s.name);
  if (s.streams.empty()) s.streams = fabricator_streams(true);
  s.params = value_map{{"path", Value(path)}, {"source", Value(from)}};
}

}  // namespace shoal
