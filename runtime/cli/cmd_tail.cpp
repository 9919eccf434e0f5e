#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <zmq.hpp>

#include "actors/core/params.hpp"
#include "messages/decode_error.hpp"
#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_line.hpp"
#include "runtime/cli/tail_stream.hpp"
#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/graph/config.hpp"
#include "runtime/graph/endpoints.hpp"
#include "runtime/graph/plan.hpp"
#include "runtime/transport/curve_keys.hpp"
#include "runtime/transport/snapshot_client.hpp"

namespace shoal {

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
    std::size_t catch_up = 0;
    std::string snapshot;
    std::string track;
    std::string curve_secret, server_key;
    std::string cluster;
    bool from_stream = false;
    std::uint64_t since = 0;
    std::string from;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("ENDPOINT", o->endpoint,
                  "the engine's publish endpoint, e.g. tcp://127.0.0.1:5556 (with --track: its "
                  "publish_tracked endpoint; with --cluster: none, every argument is a TOPIC)");
  cmd->add_option("TOPIC", o->topics, "node names to follow (default: all)");
  auto* cluster = cmd->add_option(
      "--cluster", o->cluster,
      "follow engine CONFIG's [cluster] engine_id wherever it runs: subscribe to every member "
      "(the active engine and its standbys, which publish the same outputs), print each seq "
      "once and in order, and go on with a standby when it takes over");
  auto* from_stream = cmd->add_flag(
      "--from-stream", o->from_stream,
      "with --cluster: read the outputs from the cluster's stream (the engine runs with "
      "[cluster] stream_outputs = true): every seq from the first, once and in order, whichever "
      "process made it, then the new ones");
  auto* since = cmd->add_option("--since", o->since,
                                "with --from-stream: print each node's outputs after this seq");
  auto* from = cmd->add_option(
      "--from", o->from,
      "with --from-stream: print each node's outputs of buckets from this time on (a bucket's "
      "time is its start; ns since the epoch, or ISO-8601 UTC: 2026-01-01T00:00:01Z); found with "
      "a few direct gets, as --since");
  from_stream->needs(cluster);
  since->needs(from_stream);
  from->needs(from_stream);
  from->excludes(since);
  cmd->add_option("--for", o->for_text, "stop after this wall-clock duration");
  cmd->add_option("--count", o->count, "stop after this many outputs");
  cmd->add_flag("--json", o->json, "one JSON object per line: {node, id, bucket, seq, value}");
  cmd->add_option("--width", o->width, "truncate values to this many characters (0 = never)");
  cmd->add_option("--catch-up", o->catch_up,
                  "first print the last N outputs of each TOPIC from the engine's snapshot "
                  "endpoint, then continue live with no gap and no duplicate");
  cmd->add_option(
      "--snapshot", o->snapshot,
      "the engine's snapshot endpoint ([engine] snapshot; default: ENDPOINT's port + 1)");
  cmd->add_option("--track", o->track,
                  "subscribe to the tracked endpoint ([engine] publish_tracked) under this name: "
                  "the engine then counts what it drops for us (`shoal admin subscribers`)");
  auto* secret = cmd->add_option("--curve-secret", o->curve_secret,
                                 "our CURVE key pair (a .key_secret file, mode 0600, from `shoal "
                                 "keys gen`) for an engine with [engine] curve");
  auto* server = cmd->add_option("--server-key", o->server_key,
                                 "the engine's CURVE public key (40 Z85 characters: `shoal keys "
                                 "show` of its key file)");
  secret->needs(server);
  server->needs(secret);
  cluster->excludes("--track");
  cluster->excludes("--snapshot");
  from_stream->excludes("--catch-up");
  from_stream->excludes(secret);
  cmd->callback([o, &result] {
    init_logging(result);
    std::int64_t for_ns = 0;
    if (!parse_for_option(o->for_text, for_ns, result)) return;
    auto usage = [&](const std::string& message) {
      std::cerr << "shoal: " << message << "\n";
      result.exit_code = 2;
    };
    // --cluster: the members of an engine, read from the cluster, instead of one ENDPOINT.
    cluster_decl cl;
    std::unique_ptr<member_watch> watch;
    std::vector<cluster_member> members;
    if (!o->cluster.empty()) {
      // CLI11 gives the first positional argument to ENDPOINT: with --cluster it is a TOPIC.
      if (!o->endpoint.empty()) o->topics.insert(o->topics.begin(), o->endpoint);
      try {
        cl = load_config(o->cluster).cluster;
      } catch (const std::exception& e) {
        return usage(std::string("--cluster: ") + e.what());
      }
      if (!cl.enabled) return usage("--cluster: " + o->cluster + " has no [cluster] table");
      if (o->from_stream) {
        config cfg;
        plan p;
        if (!load_and_plan(o->cluster, cfg, p, result)) return;
        const auto from_bucket = parse_time_option("--from", o->from, result);
        if (result.exit_code) return;
        result.exit_code = tail_from_stream(cfg, p,
                                            {o->cluster, o->topics, o->since, from_bucket, o->from,
                                             o->count, for_ns, o->for_text, o->json, o->width});
        return;
      }
      o->endpoint = "the members of engine " + cl.engine_id;
      try {
        // Read again every second on the watch's own thread; printing never waits for them.
        watch = std::make_unique<member_watch>(cl, "shoal tail " + cl.engine_id,
                                               std::chrono::seconds(1),
                                               std::chrono::milliseconds(2000));
        members = *watch->take_update();
      } catch (const cluster_error& e) {
        return usage(std::string("--cluster: ") + e.what());
      }
    } else if (o->endpoint.empty()) {
      return usage("ENDPOINT is required (or --cluster CONFIG)");
    } else if (const std::string why = zmq_endpoint_problem(o->endpoint, endpoint_role::connect);
               !why.empty()) {
      return usage("ENDPOINT " + why);
    }
    const bool tracked = !o->track.empty();
    std::string snap = o->snapshot;
    if (o->catch_up > 0) {
      if (tracked && snap.empty())
        return usage("--catch-up with --track needs --snapshot (the engine's snapshot endpoint)");
      if (o->topics.empty()) return usage("--catch-up needs the TOPICs to catch up on");
      if (watch) {  // the active member's, else a standby's (never a fenced one's: it is behind;
                    // nor an away one's: it stopped)
        for (const auto& m : members)
          if (!m.snapshot.empty() && m.role != "fenced" && m.role != away_role &&
              (snap.empty() || m.role == "active"))
            snap = m.snapshot;
        if (snap.empty())
          return usage("--catch-up: no member of engine " + cl.engine_id +
                       " has a snapshot endpoint ([engine] snapshot)");
      } else if (snap.empty()) {  // the engine's default: the publish port + 1
        const auto pub = tcp_listener_of_endpoint(o->endpoint);
        if (!pub || pub->port >= 65535)
          return usage("cannot derive the snapshot endpoint from " + o->endpoint +
                       " (port + 1); pass --snapshot");
        snap = "tcp://" + pub->host + ":" + std::to_string(pub->port + 1);
      }
      if (const std::string why = zmq_endpoint_problem(snap, endpoint_role::connect); !why.empty())
        return usage("--snapshot " + why);
    }
    zmq::context_t ctx(1);
    zmq::socket_t sub(ctx, tracked ? zmq::socket_type::dealer : zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    if (!o->curve_secret.empty()) {
      if (!is_z85_key(o->server_key))
        return usage(
            "--server-key must be 40 Z85 characters (`shoal keys show` of the engine's key)");
      try {
        apply_curve_client(sub, {o->curve_secret, o->server_key});
      } catch (const curve_error& e) {
        return usage(std::string("--curve-secret: ") + e.what());
      }
    }
    // ZeroMQ connects in the background and retries for ever: its monitor events are the only
    // way to tell a user that nothing listens at ENDPOINT.
    zmq::socket_t monitor(ctx, zmq::socket_type::pair);
    monitor.set(zmq::sockopt::linger, 0);
    if (zmq_socket_monitor(sub.handle(), "inproc://shoal-tail-monitor",
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                               ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0)
      monitor.connect("inproc://shoal-tail-monitor");
    bool ever_connected = false;
    bool reported_down = false;  // said that the connection is down, not yet that it is back
    // libzmq 4.3 does not connect again after a failed handshake (a key the engine refused):
    // we do, a second later, so a key put back into allowed_clients lets us in again.
    std::optional<std::chrono::steady_clock::time_point> handshake_failed;
    std::set<std::string> failed_handshakes;  // the endpoints to connect to again
    auto on_connection_event = [&](std::uint16_t event, const std::string& address) {
      if (event == ZMQ_EVENT_CONNECTED) {
        ever_connected = true;
        if (reported_down) std::cerr << "shoal: connected to " << o->endpoint << "\n";
        reported_down = false;
      } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                 event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                 event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        handshake_failed = std::chrono::steady_clock::now();
        failed_handshakes.insert(address);
        if (!reported_down)
          std::cerr << "shoal: the handshake with " << o->endpoint << " failed: "
                    << (o->curve_secret.empty()
                            ? "the engine may want CURVE (--curve-secret, --server-key)"
                            : "is --server-key the engine's public key, and ours in its "
                              "allowed_clients?")
                    << "; retrying\n";
        reported_down = true;
      } else if (!reported_down) {
        reported_down = true;
        if (event == ZMQ_EVENT_DISCONNECTED)
          std::cerr << "shoal: lost the connection to " << o->endpoint << "; reconnecting\n";
        else
          std::cerr << "shoal: cannot connect to " << o->endpoint
                    << " (nothing accepts connections there); retrying: is the engine running "
                       "and publishing there?\n";
      }
    };
    auto on_monitor_events = [&] {
      zmq::message_t head;  // an event: [u16 event, u32 value], then a frame with the address
      while (monitor.recv(head, zmq::recv_flags::dontwait)) {
        std::string address;
        for (bool more = head.more(); more;) {
          zmq::message_t part;
          more = monitor.recv(part) && part.more();
          address = part.to_string();
        }
        if (head.size() < 2) continue;
        std::uint16_t event = 0;
        std::memcpy(&event, head.data(), sizeof event);
        on_connection_event(event, address);
      }
    };
    // The endpoints connected: ENDPOINT, or with --cluster each member's, kept up to date.
    std::set<std::string> joined;
    bool told_no_members = false;
    // Per endpoint followed: when a read of the members first lacked it (absent: it was listed).
    std::map<std::string, std::chrono::steady_clock::time_point> first_missing;
    std::set<std::string> unusable;  // member endpoints that cannot be connected (said once)
    auto join_members = [&] {
      const auto now = std::chrono::steady_clock::now();
      std::set<std::string> listed;
      for (const auto& m : members) {
        // An away member stopped (its key left to expire): its connection goes as if unlisted.
        if (m.publish.empty() || unusable.count(m.publish) || m.role == away_role) continue;
        listed.insert(m.publish);
        first_missing.erase(m.publish);
        if (joined.count(m.publish)) continue;
        std::string why = zmq_endpoint_problem(m.publish, endpoint_role::connect);
        if (why.empty()) {
          try {
            sub.connect(m.publish);
          } catch (const zmq::error_t& e) {
            why = e.what();
          }
        }
        if (!why.empty()) {
          std::cerr << "shoal: member " << m.instance << " publishes on " << m.publish
                    << ", which cannot be followed: " << why << "\n";
          unusable.insert(m.publish);
          continue;
        }
        joined.insert(m.publish);
        std::cerr << "shoal: following " << m.instance << " (" << m.role << ") at " << m.publish
                  << "\n";
      }
      // A member whose key lapsed (one late renewal) keeps its connection until reads of the
      // members have lacked it for a heartbeat_ttl — counted from the first read that lacked
      // it, so a cluster that did not answer for a while drops nobody on its first answer.
      for (auto it = joined.begin(); it != joined.end();) {
        if (listed.count(*it)) {
          ++it;
          continue;
        }
        const auto missing = first_missing.try_emplace(*it, now).first->second;
        if (now - missing <= std::chrono::nanoseconds(cl.heartbeat_ttl_ns)) {
          ++it;
          continue;
        }
        try {
          sub.disconnect(*it);
        } catch (const zmq::error_t&) {
          // already gone
        }
        std::cerr << "shoal: " << *it << " left engine " << cl.engine_id << "\n";
        first_missing.erase(*it);
        it = joined.erase(it);
      }
      if (joined.empty() && !told_no_members)
        std::cerr << "shoal: no member of engine " << cl.engine_id
                  << " publishes in the cluster yet; waiting\n";
      told_no_members = joined.empty();
    };
    // A read that failed brings no update: the sockets keep what they have meanwhile.
    auto refresh_members = [&] {
      if (!watch) return;
      if (auto update = watch->take_update()) {
        members = std::move(*update);
        join_members();
      }
    };
    // Subscriptions are prefixes; exact topic matching is done below.
    std::vector<std::string> prefixes = o->topics;
    if (prefixes.empty()) prefixes.push_back("");
    // Tracked: queued until the connection is up; sent again after a silence (idempotent on the
    // engine's side).
    auto subscribe_all = [&] {
      for (const auto& t : prefixes) {
        sub.send(zmq::str_buffer("subscribe"), zmq::send_flags::sndmore);
        sub.send(zmq::buffer(t), zmq::send_flags::none);
      }
    };
    try {
      if (tracked) {
        sub.set(zmq::sockopt::routing_id, o->track);
        sub.connect(o->endpoint);
        joined.insert(o->endpoint);
        subscribe_all();
      } else {
        for (const auto& t : prefixes) sub.set(zmq::sockopt::subscribe, t);
        if (watch) {
          join_members();
        } else {
          sub.connect(o->endpoint);
          joined.insert(o->endpoint);
        }
      }
    } catch (const zmq::error_t& e) {
      std::cerr << "shoal: cannot connect to " << o->endpoint << ": " << e.what() << "\n";
      result.exit_code = 2;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(for_ns);
    std::uint64_t seen = 0, bad = 0;
    std::size_t acks = 0;  // tracked: subscriptions the engine confirmed
    bool refused = false;  // tracked: the engine refused a request
    // The engine pings a quiet subscriber every 5 s: silence for longer means the connection
    // was replaced (an engine restart forgets subscriptions), so subscribe again.
    auto last_frame = std::chrono::steady_clock::now();
    std::map<std::string, std::uint64_t> last_seq;  // per topic: printed through this seq
    auto show = [&](const Output& out) {
      if (o->count && seen >= o->count) return;
      ++seen;
      auto& last = last_seq[out.node];
      if (last != 0 && out.seq != last + 1)
        std::cerr << "shoal: gap on " << out.node << ": seq " << out.seq << " after " << last
                  << "\n";
      last = out.seq;
      print_output_line(std::cout, out, o->json, o->width);
    };
    // With --cluster every member sends the same outputs, a standby later than the active
    // engine: an output past the next seq waits (up to a second) for the ones before it, which
    // another member may still send.
    using clock = std::chrono::steady_clock;
    std::map<std::string, std::map<std::uint64_t, std::pair<Output, clock::time_point>>> held;
    // Prints what follows the node's outputs printed so far: held outputs next in line, and
    // (all, or held longer than the wait) the oldest held despite a gap.
    auto release = [&](const std::string& node, bool all) {
      auto& h = held[node];
      while (!h.empty() && (all || h.begin()->first <= last_seq[node] + 1 ||
                            clock::now() - h.begin()->second.second > std::chrono::seconds(1))) {
        if (h.begin()->first > last_seq[node]) show(h.begin()->second.first);
        h.erase(h.begin());
      }
    };
    // Prints an output unless printed already (a snapshot's overlap, another member's copy).
    auto print = [&](const Output& out) {
      const std::uint64_t last = last_seq[out.node];
      if (last != 0 && out.seq <= last) return;
      if (watch && last != 0 && out.seq != last + 1) {
        held[out.node].emplace(out.seq, std::make_pair(out, clock::now()));
        return;
      }
      show(out);
      release(out.node, false);
    };
    auto release_overdue = [&](bool all) {
      for (auto& [node, _] : held) release(node, all);
    };
    // Receives one live output (or nothing within the timeout).
    auto receive = [&](int timeout_ms) -> std::optional<Output> {
      zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(timeout_ms));
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
        return std::nullopt;  // a stop signal: the loop ends
      }
      if (items[1].revents & ZMQ_POLLIN) on_monitor_events();
      if (handshake_failed &&
          std::chrono::steady_clock::now() - *handshake_failed > std::chrono::seconds(1)) {
        handshake_failed.reset();
        // Only those whose handshake failed: the others' streams go on undisturbed.
        for (const auto& ep : failed_handshakes) {
          if (!joined.count(ep)) continue;
          try {
            sub.disconnect(ep);
          } catch (const zmq::error_t&) {
            // the session is already gone
          }
          sub.connect(ep);
        }
        failed_handshakes.clear();
        if (tracked) subscribe_all();
      }
      if (!(items[0].revents & ZMQ_POLLIN)) {
        if (tracked && std::chrono::steady_clock::now() - last_frame > std::chrono::seconds(12)) {
          subscribe_all();
          last_frame = std::chrono::steady_clock::now();
        }
        return std::nullopt;
      }
      last_frame = std::chrono::steady_clock::now();
      zmq::message_t topic, body;
      if (!sub.recv(topic) || !topic.more() || !sub.recv(body)) return std::nullopt;
      while (body.more()) (void)sub.recv(body);  // ignore extra frames
      const std::string t = topic.to_string();
      if (tracked && t.empty()) {  // the engine's answer to a request
        try {
          const Value r = from_msgpack(body.to_string_view());
          if (r.find("subscribed")) ++acks;
          if (const Value* err = r.find("error")) {
            std::cerr << "shoal: the engine refused: " << err->as_string() << "\n";
            refused = true;
          }
        } catch (const decode_error&) {
        }
        return std::nullopt;
      }
      if (!o->topics.empty() && std::find(o->topics.begin(), o->topics.end(), t) == o->topics.end())
        return std::nullopt;
      try {
        return decode_output(body.to_string_view());
      } catch (const decode_error& e) {
        if (bad++ == 0)
          std::cerr << "shoal: undecodable output on " << t << ": " << e.what() << "\n";
      }
      return std::nullopt;
    };

    std::deque<Output> pending;  // live outputs received while catching up
    if (o->catch_up > 0) {
      // Subscribe first and wait until the subscription demonstrably works (an output arrived,
      // or the tracked endpoint confirmed it; else a second passes), then ask for the snapshot:
      // it then overlaps the live stream, never leaves a gap.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      // Tracked: only the confirmations count (an output of one topic says nothing of the
      // others' subscriptions).
      while ((tracked ? acks < prefixes.size() && !refused : pending.empty()) &&
             std::chrono::steady_clock::now() < until)
        if (auto out = receive(50)) pending.push_back(std::move(*out));
      snapshot_client client(ctx, snap, std::chrono::seconds(5), {o->curve_secret, o->server_key});
      for (const auto& t : o->topics) {
        std::vector<std::string> outputs;
        try {
          outputs = client.last_outputs(t, o->catch_up);
        } catch (const snapshot_error& e) {
          std::cerr << "shoal: " << e.what() << "\n";
          result.exit_code = 1;
          return;
        }
        for (const auto& bytes : outputs) {
          print(decode_output(bytes, decode_limits{std::size_t{1} << 30}));
        }
      }
      // Live outputs that arrived meanwhile: drain the socket, then print what the snapshot lacks.
      while (auto out = receive(0)) pending.push_back(std::move(*out));
      for (const auto& out : pending) print(out);
    }
    // Ctrl-C or SIGTERM ends the loop: what waits for a missing seq is printed first.
    const std::atomic<bool>& stopped = catch_stop_signals();
    while (!stopped && (for_ns == 0 || std::chrono::steady_clock::now() < deadline)) {
      if (o->count && seen >= o->count) break;
      if (refused) {
        result.exit_code = 1;
        return;
      }
      refresh_members();
      release_overdue(false);
      auto out = receive(100);
      if (!out) continue;
      print(*out);
    }
    release_overdue(true);  // what waited for a seq that never came
    if (stopped) {
      result.exit_code = 128 + stop_signal();
      return;
    }
    // --for ended first: say so, rather than exit 0 having printed nothing.
    if (seen == 0 || (o->count && seen < o->count)) {
      on_monitor_events();
      std::cerr << "shoal: ";
      if (seen == 0)
        std::cerr << "no output";
      else
        std::cerr << "only " << seen << " of " << o->count << " outputs";
      std::cerr << " from " << o->endpoint << " within " << o->for_text;
      if (!ever_connected)
        std::cerr << ": never connected (is the engine running and publishing there?)";
      else if (seen == 0 && !o->topics.empty())
        std::cerr << " (connected): is the engine producing these topics? Names are exact, see "
                     "`shoal plan CONFIG`";
      else if (seen == 0)
        std::cerr << " (connected, but the engine published nothing)";
      std::cerr << "\n";
      result.exit_code = 1;
    }
  });
}

}  // namespace shoal
