#include <chrono>
#include <ctime>
#include <iostream>
#include <zmq.hpp>

#include "actors/core/params.hpp"
#include "messages/decode_error.hpp"
#include "messages/json.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"

namespace shoal {
namespace {

std::string utc_time(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  if (ns % 1'000'000'000 < 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void add_tail_command(CLI::App& app, cli_result& result) {
  auto* cmd =
      app.add_subcommand("tail", "Subscribe to an engine and print outputs as they arrive.");
  struct options {
    std::string endpoint;
    std::vector<std::string> topics;
    std::string for_text;
    std::uint64_t count = 0;
    bool json = false;
    std::size_t width = 160;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("ENDPOINT", o->endpoint,
                  "the engine's publish endpoint, e.g. tcp://127.0.0.1:5556")
      ->required();
  cmd->add_option("TOPIC", o->topics, "node names to follow (default: all)");
  cmd->add_option("--for", o->for_text, "stop after this wall-clock duration");
  cmd->add_option("--count", o->count, "stop after this many outputs");
  cmd->add_flag("--json", o->json, "one JSON object per line: {node, id, bucket, seq, value}");
  cmd->add_option("--width", o->width, "truncate values to this many characters (0 = never)");
  cmd->callback([o, &result] {
    init_logging(result);
    std::int64_t for_ns = 0;
    if (!o->for_text.empty()) {
      try {
        for_ns = parse_duration_ns(o->for_text);
      } catch (const std::exception& e) {
        std::cerr << "shoal: --for: " << e.what() << "\n";
        result.exit_code = 2;
        return;
      }
    }
    zmq::context_t ctx(1);
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    if (o->topics.empty()) sub.set(zmq::sockopt::subscribe, "");
    // ZeroMQ subscriptions are prefixes; exact topic matching is done below.
    for (const auto& t : o->topics) sub.set(zmq::sockopt::subscribe, t);
    try {
      sub.connect(o->endpoint);
    } catch (const zmq::error_t& e) {
      std::cerr << "shoal: cannot connect to " << o->endpoint << ": " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(for_ns);
    std::uint64_t seen = 0, bad = 0;
    while (for_ns == 0 || std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(100));
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::message_t topic, body;
      if (!sub.recv(topic) || !topic.more() || !sub.recv(body)) continue;
      while (body.more()) (void)sub.recv(body);  // ignore extra frames
      const std::string t = topic.to_string();
      if (!o->topics.empty() && std::find(o->topics.begin(), o->topics.end(), t) == o->topics.end())
        continue;
      try {
        Output out = decode_output(body.to_string_view());
        if (o->json) {
          std::cout << to_json(out).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    << "\n";
        } else {
          std::string v =
              to_json(*out.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          if (o->width && v.size() > o->width) v = v.substr(0, o->width) + "…";
          std::cout << out.node << "  seq " << out.seq << "  " << utc_time(out.bucket) << "  " << v
                    << "\n";
        }
        std::cout.flush();
      } catch (const decode_error& e) {
        if (bad++ == 0)
          std::cerr << "shoal: undecodable output on " << t << ": " << e.what() << "\n";
      }
      if (o->count && ++seen >= o->count) break;
    }
  });
}

}  // namespace shoal
