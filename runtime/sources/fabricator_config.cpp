// The config half of the fabricator source kind (its emission: fabricator_source.cpp).
#include "runtime/sources/fabricator_config.hpp"

#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/sources/source_kinds.hpp"

namespace shoal {

value_map fabricator_settings::params() const {
  value_map p{{"assets", Value(assets)},
              {"levels", Value(levels)},
              {"seed", Value(seed)},
              {"start", Value(start)}};
  if (!books) p["books"] = Value(false);
  return p;
}

void parse_fabricator_config(detail::table_reader& r, source_decl& s) {
  fabricator_settings f;
  f.seed = r.integer("seed").value_or(f.seed);
  f.assets = r.integer("assets").value_or(f.assets);
  if (f.assets < 1 || f.assets > 1000) r.fail("assets", "must be in [1, 1000]");
  f.start = r.integer("start").value_or(f.start);
  if (f.start < 0 || f.start > 4'102'444'800)
    r.fail("start", "must be unix seconds in [0, 4102444800]");
  f.levels = r.integer("levels").value_or(f.levels);
  if (f.levels < 1 || f.levels > 50) r.fail("levels", "must be in [1, 50]");
  f.books = r.boolean("books").value_or(f.books);
  if (auto d = r.duration("pace")) s.pace_ns = *d;
  s.params = f.params();
  s.streams = fabricator_streams(f.books);
}

}  // namespace shoal
