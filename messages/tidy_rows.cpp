#include "messages/tidy_rows.hpp"

namespace shoal {
namespace {

std::size_t list_size(const Value& v) {
  if (v.is_f64_vector()) return v.as_f64_vector().size();
  return v.is_list() ? v.as_list().size() : 0;
}

bool is_any_list(const Value& v) { return v.is_list() || v.is_f64_vector(); }

void flatten(const Value& v, const std::string& prefix, const std::string* asset,
             const tidy_row_fn& f) {
  if (!v.is_map()) {
    f(asset, prefix.empty() ? std::string("value") : prefix, v);
    return;
  }
  const value_map& m = v.as_map();
  const auto assets_it = m.find("assets");
  const bool per_asset = assets_it != m.end() && assets_it->second.is_list();
  for (const auto& [key, entry] : m) {
    if (per_asset && key == "assets") continue;
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    const value_list* assets = per_asset ? &assets_it->second.as_list() : nullptr;
    if (assets && is_any_list(entry) && list_size(entry) == assets->size()) {
      for (std::size_t i = 0; i < assets->size(); ++i) {
        const Value& a = (*assets)[i];
        const std::string asset_name = a.is_string() ? a.as_string() : std::string();
        if (entry.is_f64_vector())
          flatten(Value(entry.as_f64_vector()[i]), name, &asset_name, f);
        else
          flatten(entry.as_list()[i], name, &asset_name, f);
      }
    } else {
      flatten(entry, name, asset, f);
    }
  }
}

}  // namespace

void for_each_tidy_row(const Value& v, const tidy_row_fn& f) { flatten(v, "", nullptr, f); }

}  // namespace shoal
