#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include "runtime/admin/asio.hpp"

#include "messages/utc_time.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/graph/config.hpp"
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

std::string cell_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() &&
      std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_string(); })) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x.get<std::string>();
    return out;
  }
  return v.dump();
}

void print_table(const json& rows, const std::vector<std::string>& cols, int indent = 0) {
  std::vector<std::size_t> width;
  for (const auto& c : cols) width.push_back(c.size());
  for (const auto& r : rows)
    for (std::size_t i = 0; i < cols.size(); ++i)
      width[i] = std::max(width[i], cell_text(r[cols[i]]).size());
  std::printf("%*s", indent, "");
  for (std::size_t i = 0; i < cols.size(); ++i)
    std::printf("%-*s  ", static_cast<int>(width[i]), cols[i].c_str());
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("%*s", indent, "");
    for (std::size_t i = 0; i < cols.size(); ++i)
      std::printf("%-*s  ", static_cast<int>(width[i]), cell_text(r[cols[i]]).c_str());
    std::printf("\n");
  }
}

// An answer without a layout of its own: scalars as "key  value" lines, lists of objects as
// tables (their fields as columns), nested objects indented below their key.
void print_generic(const json& r, int indent = 0) {
  std::size_t width = 0;
  for (const auto& [key, v] : r.items()) {
    if (key != "ok") width = std::max(width, key.size());
  }
  for (const auto& [key, v] : r.items()) {
    if (key == "ok") continue;
    const bool table = v.is_array() && !v.empty() &&
                       std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_object(); });
    if (table) {
      std::printf("%*s%s:\n", indent, "", key.c_str());
      std::vector<std::string> cols;
      for (const auto& [c, _] : v.front().items()) cols.push_back(c);
      json rows = json::array();
      for (const auto& x : v) {
        json row;
        for (const auto& c : cols) row[c] = cell_text(x.contains(c) ? x[c] : json());
        rows.push_back(row);
      }
      print_table(rows, cols, indent + 2);
    } else if (v.is_object() && !v.empty()) {
      std::printf("%*s%s:\n", indent, "", key.c_str());
      print_generic(v, indent + 2);
    } else {
      std::printf("%*s%-*s  %s\n", indent, "", static_cast<int>(width), key.c_str(),
                  cell_text(v).c_str());
    }
  }
}

void print_readable(const std::string& cmd, const json& r) {
  if (cmd == "help") {
    for (const auto& c : r["commands"])
      std::printf("  %-12s %-10s %s\n", c["cmd"].get<std::string>().c_str(),
                  c["args"].get<std::string>().c_str(), c["summary"].get<std::string>().c_str());
  } else if (cmd == "graph") {
    json rows = json::array();
    for (const auto& n : r["nodes"]) {
      std::string inputs;
      for (const auto& in : n["inputs"]) {
        inputs += (inputs.empty() ? "" : ", ") + in["port"].get<std::string>() + "=" +
                  in["upstream"].get<std::string>();
      }
      rows.push_back({{"names", cell_text(n["names"])},
                      {"id", n["id"].get<std::string>().substr(0, 12)},
                      {"kind", n["kind"]},
                      {"pass", n["pass"]},
                      {"period", n["period"]},
                      {"inputs", inputs}});
    }
    print_table(rows, {"names", "id", "kind", "pass", "period", "inputs"});
    std::printf("%s declared, %s distinct, %s reused\n", r["declared"].dump().c_str(),
                r["distinct"].dump().c_str(), r["reused"].dump().c_str());
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
    if (r["strategies"].empty()) {
      std::printf("no strategies: the engine runs its config's own nodes only\n");
    }
    for (const auto& s : r["strategies"]) {
      std::printf("%s:", s["strategy"].get<std::string>().c_str());
      for (const auto& n : s["nodes"]) std::printf(" %s", n.get<std::string>().c_str());
      std::printf("\n");
    }
  } else if (cmd == "window") {
    std::cout << r.dump(2) << "\n";  // C[input, interval, slot, {t, v}]: nested by nature
  } else if (cmd == "outputs") {
    if (r["outputs"].empty())
      std::printf("no stored outputs of %s yet\n", r["node"].get<std::string>().c_str());
    json rows = json::array();
    for (const auto& out : r["outputs"]) {
      std::string value = cell_text(out["value"]);
      if (value.size() > 100) value = value.substr(0, 99) + "…";  // --json has it whole
      rows.push_back({{"seq", out["seq"]},
                      {"bucket", utc_time(out["bucket"].get<std::int64_t>())},
                      {"value", value}});
    }
    if (!rows.empty()) print_table(rows, {"seq", "bucket", "value"});
  } else {
    print_generic(r);
  }
}

}  // namespace

void add_admin_command(CLI::App& app, cli_result& result) {
  auto* cmd =
      app.add_subcommand("admin", "Talk to a running engine's admin socket (`shoal admin help`).");
  struct options {
    std::string socket = "./shoal-data/shoal.sock", config, tcp, token, command;
    std::vector<std::string> args;
    bool json = false, dry_run = false, fresh = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("--socket", o->socket, "the engine's Unix admin socket (<data dir>/shoal.sock)")
      ->capture_default_str();
  auto* socket_opt = cmd->get_option("--socket");
  cmd->add_option("--config", o->config,
                  "find the socket from the engine's config: its [engine] admin, else "
                  "<its data dir>/shoal.sock (an engine run with --data DIR: --socket "
                  "DIR/shoal.sock)")
      ->excludes(socket_opt);
  cmd->add_option("--tcp", o->tcp, "loopback HOST:PORT instead of the Unix socket (needs --token)");
  cmd->add_option("--token", o->token, "the engine's admin_token (TCP only)");
  cmd->add_flag("--json", o->json, "print the raw JSON answer");
  cmd->add_flag("--dry-run", o->dry_run, "submit, remove: answer the diff without applying it");
  cmd->add_flag("--fresh", o->fresh, "restart: start the node cold (a new window)");
  cmd->add_option("CMD", o->command,
                  "help, version, status, graph, nodes, inspect, window, pause, resume, "
                  "metrics, strategies, submit FILE, remove STRATEGY, restart NODE, checkpoint, "
                  "config, cluster, move NODE PROCESS, subscribers, log-level, reload-keys, "
                  "outputs NODE [N], explain NODE BUCKET [DEPTH]")
      ->required();
  cmd->add_option("ARGS", o->args,
                  "the command's arguments (a node, a level, a strategy; explain: "
                  "a node, a bucket in ns, levels of inputs)");
  cmd->callback([o, &result] {
    if (!o->tcp.empty()) {
      if (const std::string why = loopback_problem(o->tcp); !why.empty()) {
        std::cerr << "shoal: --tcp " << why << "\n";
        result.exit_code = 2;
        return;
      }
    }
    if (!o->config.empty()) {
      try {
        const config cfg = load_config(o->config);
        o->socket = !cfg.engine.admin.empty()
                        ? cfg.engine.admin
                        : (std::filesystem::path(cfg.engine.data_dir) / "shoal.sock").string();
      } catch (const std::exception& e) {
        std::cerr << "shoal: config error: " << e.what() << "\n";
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
      } else if (c == "remove") {
        req["strategy"] = o->args[0];
      } else if (c == "move") {
        // move NODE PROCESS: to the placed process named as admin `cluster` names it.
        req["node"] = o->args[0];
        if (o->args.size() > 1) req["to"] = o->args[1];
      } else if (c == "outputs") {
        // outputs NODE [N]
        req["node"] = o->args[0];
        try {
          if (o->args.size() > 1) req["n"] = std::stoll(o->args[1]);
        } catch (const std::exception&) {
          std::cerr << "shoal: admin outputs NODE [N]: N is an integer\n";
          result.exit_code = 2;
          return;
        }
      } else if (c == "explain") {
        // explain NODE BUCKET [DEPTH]: numbers travel as numbers.
        req["node"] = o->args[0];
        try {
          if (o->args.size() > 1) req["bucket"] = std::stoll(o->args[1]);
          if (o->args.size() > 2) req["depth"] = std::stoi(o->args[2]);
        } catch (const std::exception&) {
          std::cerr << "shoal: admin explain NODE BUCKET [DEPTH]: BUCKET and DEPTH are integers\n";
          result.exit_code = 2;
          return;
        }
      }
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
