#pragma once
// tidy_rows: a value as (asset, field, value) rows, the tidy form of docs/clients.md, used by
// `shoal export --tidy` and the flattened CSV; the Python and Node clients apply the same rule:
// - a value that is not a map is one row: no asset, field "value";
// - a map with an `assets` list: each entry that is a list as long as `assets` gives one row per
//   asset under the entry's name ({assets, values} → field "values"); its other entries are
//   rows without an asset;
// - any other map: its entries, nested names joined with ".".

#include <functional>
#include <string>

#include "messages/value.hpp"

namespace shoal {

// asset is null for rows without one.
using tidy_row_fn =
    std::function<void(const std::string* asset, const std::string& field, const Value& value)>;

void for_each_tidy_row(const Value& v, const tidy_row_fn& f);

}  // namespace shoal
