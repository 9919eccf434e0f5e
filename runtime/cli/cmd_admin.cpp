#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include "runtime/admin/asio.hpp"

#include "runtime/cli/commands.hpp"
#include "runtime/graph/endpoints.hpp"

namespace shoal {
namespace {

using json = nlohmann::json;
namespace asio = boost::asio;

// Sends one request line and reads one response line.
template <class Socket>
std::string request_line(Socket& s, const std::string& line) {
  asio::write(s, asio::buffer(line + "\n"));
  asio::streambuf buf;
  asio::read_until(s, buf, '\n');
  std::string out(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
  return out.substr(0, out.find('\n'));
}

void print_table(const json& rows, const std::vector<std::string>& cols) {
  std::vector<std::size_t> width;
  for (const auto& c : cols) width.push_back(c.size());
  auto cell = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (const auto& r : rows)
    for (std::size_t i = 0; i < cols.size(); ++i)
      width[i] = std::max(width[i], cell(r[cols[i]]).size());
  for (std::size_t i = 0; i < cols.size(); ++i)
    std::printf("%-*s  ", static_cast<int>(width[i]), cols[i].c_str());
  std::printf("\n");
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < cols.size(); ++i)
      std::printf("%-*s  ", static_cast<int>(width[i]), cell(r[cols[i]]).c_str());
    std::printf("\n");
  }
}

void print_readable(const std::string& cmd, const json& r) {
  if (cmd == "help") {
    for (const auto& c : r["commands"])
      std::printf("  %-12s %-10s %s\n", c["cmd"].get<std::string>().c_str(),
                  c["args"].get<std::string>().c_str(), c["summary"].get<std::string>().c_str());
  } else if (cmd == "nodes") {
    json rows = r["nodes"];
    for (auto& row : rows) row["id"] = row["id"].get<std::string>().substr(0, 12);
    print_table(
        rows, {"name", "id", "kind", "state", "events_in", "outputs", "late_dropped", "rejected"});
  } else if (cmd == "subscribers") {
    if (r["subscribers"].empty())
      std::printf("no tracked subscribers%s\n", r["endpoint"].get<std::string>().empty()
                                                    ? " ([engine] publish_tracked is unset)"
                                                    : "");
    else
      print_table(r["subscribers"], {"name", "connected", "sent", "dropped", "topics"});
  } else if (cmd == "metrics") {
    std::cout << r["text"].get<std::string>();
  } else if (cmd == "strategies") {
    for (const auto& s : r["strategies"]) {
      std::printf("%s:", s["strategy"].get<std::string>().c_str());
      for (const auto& n : s["nodes"]) std::printf(" %s", n.get<std::string>().c_str());
      std::printf("\n");
    }
  } else {
    json shown = r;
    shown.erase("ok");
    std::cout << shown.dump(2) << "\n";
  }
}

}  // namespace

void add_admin_command(CLI::App& app, cli_result& result) {
  auto* cmd =
      app.add_subcommand("admin", "Talk to a running engine's admin socket (`shoal admin help`).");
  struct options {
    std::string socket = "./shoal-data/shoal.sock", tcp, token, command;
    std::vector<std::string> args;
    bool json = false, dry_run = false, fresh = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("--socket", o->socket, "the engine's Unix admin socket (<data dir>/shoal.sock)")
      ->capture_default_str();
  cmd->add_option("--tcp", o->tcp, "loopback HOST:PORT instead of the Unix socket (needs --token)");
  cmd->add_option("--token", o->token, "the engine's admin_token (TCP only)");
  cmd->add_flag("--json", o->json, "print the raw JSON answer");
  cmd->add_flag("--dry-run", o->dry_run, "submit, remove: answer the diff without applying it");
  cmd->add_flag("--fresh", o->fresh, "restart: start the node cold (a new window)");
  cmd->add_option("CMD", o->command,
                  "help, version, graph, nodes, inspect, window, pause, resume, metrics, "
                  "strategies, submit FILE, remove STRATEGY, restart NODE, checkpoint, config, "
                  "subscribers, log-level")
      ->required();
  cmd->add_option("ARGS", o->args, "the command's argument (a node, a level, a strategy)");
  cmd->callback([o, &result] {
    if (!o->tcp.empty()) {
      if (const std::string why = loopback_problem(o->tcp); !why.empty()) {
        std::cerr << "shoal: --tcp " << why << "\n";
        result.exit_code = 2;
        return;
      }
    }
    json req{{"cmd", o->command}};
    const std::string& c = o->command;
    if (!o->args.empty()) {
      if (c == "inspect" || c == "window" || c == "pause" || c == "resume" || c == "restart")
        req["node"] = o->args[0];
      else if (c == "log-level")
        req["level"] = o->args[0];
      else if (c == "submit") {
        // The strategy travels as text: it works over TCP, and the engine reads no path.
        if (std::error_code ec; !std::filesystem::is_regular_file(o->args[0], ec)) {
          std::cerr << "shoal: " << o->args[0]
                    << (std::filesystem::exists(o->args[0], ec) ? ": not a regular file"
                                                                : ": no such file")
                    << "; give the strategy's TOML file\n";
          result.exit_code = 2;
          return;
        }
        std::ifstream in(o->args[0], std::ios::binary);
        if (!in) {
          std::cerr << "shoal: " << o->args[0] << ": cannot read the strategy file\n";
          result.exit_code = 2;
          return;
        }
        std::ostringstream text;
        text << in.rdbuf();
        req["text"] = text.str();
      } else if (c == "remove")
        req["strategy"] = o->args[0];
    }
    if (o->dry_run) req["dry_run"] = true;
    if (o->fresh) req["fresh"] = true;
    if (!o->token.empty()) req["token"] = o->token;
    std::string answer;
    try {
      asio::io_context io;
      if (!o->tcp.empty()) {
        asio::ip::tcp::socket s(io);
        const tcp_listener at = tcp_listener_of_hostport(o->tcp);
        s.connect({asio::ip::make_address(at.host), static_cast<unsigned short>(at.port)});
        answer = request_line(s, req.dump());
      } else {
        asio::local::stream_protocol::socket s(io);
        s.connect(asio::local::stream_protocol::endpoint(o->socket));
        answer = request_line(s, req.dump());
      }
    } catch (const std::exception& e) {
      std::cerr << "shoal: cannot reach the admin socket " << (o->tcp.empty() ? o->socket : o->tcp)
                << ": " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    json r = json::parse(answer, nullptr, false);
    if (r.is_discarded()) {
      std::cerr << "shoal: not a JSON answer: " << answer << "\n";
      result.exit_code = 1;
      return;
    }
    if (!r.value("ok", false)) {
      std::cerr << "shoal: " << r.value("error", std::string("refused")) << "\n";
      result.exit_code = 1;
      if (o->json) std::cout << answer << "\n";
      return;
    }
    if (o->json)
      std::cout << answer << "\n";
    else
      print_readable(c, r);
  });
}

}  // namespace shoal
