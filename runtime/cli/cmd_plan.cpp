#include <iostream>

#include "runtime/cli/commands.hpp"
#include "runtime/graph/plan.hpp"

namespace shoal {

void add_plan_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "plan", "Show the graph a config plans to: NodeIDs, passes, dedup (reuse ratio), warm-up.");
  auto path = std::make_shared<std::string>();
  auto dot = std::make_shared<bool>(false);
  auto ids = std::make_shared<bool>(false);
  cmd->add_option("CONFIG", *path, "engine config (TOML)")->required();
  auto* dot_flag =
      cmd->add_flag("--dot", *dot, "print the graph in Graphviz DOT (pipe into `dot -Tsvg`)");
  cmd->add_flag("--ids", *ids,
                "print each node's whole NodeID and its names, one per line (what another "
                "engine's cluster_node source names in `node`)")
      ->excludes(dot_flag);
  cmd->callback([path, dot, ids, &result] {
    config cfg;
    plan p;
    if (!load_and_plan(*path, cfg, p, result)) return;
    std::cout << (*dot ? plan_to_dot(p) : *ids ? plan_to_ids(p) : plan_to_text(p));
  });
}

}  // namespace shoal
