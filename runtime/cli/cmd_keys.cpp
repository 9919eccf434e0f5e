// `shoal keys gen NAME --out DIR` and `shoal keys show FILE`: CURVE key pairs for [engine] curve,
// zmq sources' curve and the clients (runtime/transport/curve_keys.hpp; docs/curve.md).
#include <iostream>
#include <memory>

#include "runtime/cli/commands.hpp"
#include "runtime/transport/curve_keys.hpp"

namespace shoal {

void add_keys_command(CLI::App& app, cli_result& result) {
  auto* cmd = app.add_subcommand(
      "keys", "CURVE keys: make a key pair, or show a key file's public key (docs/curve.md).");
  cmd->require_subcommand(1);

  auto* gen = cmd->add_subcommand(
      "gen",
      "Write a new key pair: DIR/NAME.key (the public key, to give to the other side) and "
      "DIR/NAME.key_secret (both keys, mode 0600, to keep). ZeroMQ certificates, as pyzmq's "
      "zmq.auth reads them.");
  struct gen_opts {
    std::string name, out = ".";
    bool force = false;
  };
  auto g = std::make_shared<gen_opts>();
  gen->add_option("NAME", g->name, "the key's name (an engine, a desk, a client)")->required();
  gen->add_option("--out", g->out, "the directory to write to (made if missing)")
      ->capture_default_str();
  gen->add_flag("--force", g->force, "replace an existing pair of that name");
  gen->callback([g, &result] {
    if (g->name.empty() || g->name.find('/') != std::string::npos || g->name[0] == '.') {
      std::cerr << "shoal: keys gen: NAME must be a plain file name, got \"" << g->name << "\"\n";
      result.exit_code = 2;
      return;
    }
    try {
      const curve_pair keys = generate_curve_pair();
      const auto [pub, sec] = write_curve_files(g->out, g->name, keys, g->force);
      std::cout << "public key " << keys.public_key << "\n"
                << "  " << pub << "  (give it away: an engine's allowed_clients, a client's "
                << "--server-key)\n"
                << "  " << sec << "  (keep it: mode 0600)\n";
    } catch (const curve_error& e) {
      std::cerr << "shoal: keys gen: " << e.what() << "\n";
      result.exit_code = 1;
    }
  });

  auto* show = cmd->add_subcommand("show", "Print a key file's public key (40 Z85 characters).");
  auto file = std::make_shared<std::string>();
  show->add_option("FILE", *file, "a .key or .key_secret file")->required();
  show->callback([file, &result] {
    try {
      std::cout << read_curve_file(*file).public_key << "\n";
    } catch (const curve_error& e) {
      std::cerr << "shoal: keys show: " << e.what() << "\n";
      result.exit_code = 2;
    }
  });
}

}  // namespace shoal
