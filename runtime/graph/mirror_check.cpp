#include "runtime/graph/detail/mirror_check.hpp"

#include <filesystem>
#include <set>

namespace shoal::detail {
namespace {

// Two spellings of one file (a symlink, "./a.toml") are the same config.
std::string identity_of(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? std::filesystem::absolute(path).lexically_normal().string() : p.string();
}

std::string loop_text(const mirror_chain& chain, const std::string& last) {
  std::string out;
  for (const auto& path : chain) out += path + " -> ";
  return out + last;
}

}  // namespace

void check_mirror(const config& cfg, const plan& p, const mirror_chain& chain) {
  const source_loc mirrors_loc = cfg.engine.loc_of("mirrors");
  mirror_chain here = chain;
  here.push_back(cfg.path);
  const std::string target = identity_of(cfg.engine.mirrors);
  for (const auto& path : here)
    if (identity_of(path) == target)
      throw config_error(mirrors_loc, "engine.mirrors",
                         "mirror loop: " + loop_text(here, cfg.engine.mirrors) +
                             " (a chain of mirrors must end at an engine that mirrors nothing)");
  config primary;
  try {
    primary = load_config(cfg.engine.mirrors);
  } catch (const config_error& e) {
    throw config_error(mirrors_loc, "engine.mirrors",
                       std::string("cannot load the mirrored engine's config: ") + e.what());
  }
  const plan theirs = build_plan_in_chain(primary, here);
  // None of the mirror's endpoints may be one the primary binds.
  const std::set<std::string> theirs_endpoints{
      primary.engine.publish, primary.engine.publish_tracked, primary.engine.snapshot};
  for (const auto& [key, ep] :
       {std::pair<const char*, const std::string&>{"publish", cfg.engine.publish},
        {"publish_tracked", cfg.engine.publish_tracked},
        {"snapshot", cfg.engine.snapshot}})
    if (!ep.empty() && theirs_endpoints.count(ep))
      throw config_error(cfg.engine.loc_of(key), std::string("engine.") + key,
                         "\"" + ep + "\" is an endpoint of the engine this config mirrors (" +
                             cfg.engine.mirrors + ")");
  for (const auto& n : cfg.nodes)
    if (theirs.by_name.count(n.name))
      throw config_error(n.loc, "node." + n.name + ".name",
                         "would publish on topic \"" + n.name +
                             "\", owned by the engine this config mirrors (" + cfg.engine.mirrors +
                             "); a mirror is read-only");
  for (const auto& node : p.nodes)
    if (node.is_stream())
      for (const auto& name : node.names)
        if (theirs.by_name.count(name))
          throw config_error(
              cfg.sources[*node.source].loc, "source.name",
              "stream \"" + name +
                  "\" would publish on a topic owned by the engine this config mirrors (" +
                  cfg.engine.mirrors + ")");
}

}  // namespace shoal::detail
