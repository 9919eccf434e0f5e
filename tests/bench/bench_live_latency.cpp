// Live latency, in one run on one machine (libzmq's local_lat/remote_lat in spirit):
//   raw   — one ZeroMQ PUB/SUB hop over loopback TCP, an 800-byte-ish scan frame;
//   relay — two hops through a bare C++ relay thread in its own context (SUB polled the way the
//           zmq source polls, then PUB): what two hops cost on this machine with no engine;
//   engine — feed PUB -> zmq source -> log_return -> engine PUB -> SUB: two hops plus the engine,
//            with the data dir on (journal, outputs), publish_after_commit off and on, and with
//            CURVE on both hops (the feed a CURVE server, the engine's [engine] curve with the
//            subscriber's key allowed): what authentication and encryption cost; and with
//            one node worker ([engine] workers = 1), sleeping between frames or polling
//            (idle_spin_us).
// Frames are sent one at a time at a steady pace, so it measures latency, not throughput.
// Usage: shoal_bench_live_latency DIR [SAMPLES]. Prints "<name>_p50_us", "<name>_p99_us", and
// the engine's own breakdown from its stage histograms (metrics shoal_latency_seconds): the mean
// time from the zmq source's receipt to the end of each stage, "<name>_<stage>_mean_us".
#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/transport/curve_keys.hpp"

using namespace shoal;
using clk = std::chrono::steady_clock;

namespace {

constexpr std::int64_t start_ns = 1'767'225'600'000'000'000;

// Longer than the pace between frames (0.5 ms and the frame's own time): the worker never sleeps.
const std::string idle_spin_bench = "5000";  // µs

std::string scan_frame(std::int64_t k) {
  value_list assets;
  f64_vector prices;
  for (int i = 0; i < 48; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "A%03d", i);
    assets.emplace_back(name);
    prices.push_back(100.0 + i + 0.01 * static_cast<double>((k * (i + 7)) % 97));
  }
  return to_msgpack(Value(value_map{{"ts", Value(start_ns + k * 1'000'000'000)},
                                    {"scan_number", Value(k)},
                                    {"assets", Value(std::move(assets))},
                                    {"prices", Value(std::move(prices))}}));
}

void report(const char* name, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<std::size_t>(q * (us.size() - 1))]; };
  std::printf("%s_p50_us %.1f\n%s_p99_us %.1f\n", name, at(0.5), name, at(0.99));
  std::fflush(stdout);
}

// Waits until a SUB connected to a PUB receives frames (ZeroMQ's slow joiner).
template <class Send>
void until_joined(zmq::socket_t& sub, Send&& send) {
  for (int i = 0; i < 2000; ++i) {
    send(-1 - i);
    zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, std::chrono::milliseconds(5)) > 0) return;
  }
}

void drain(zmq::socket_t& sub) {
  std::vector<zmq::message_t> parts;
  while (zmq::recv_multipart(sub, std::back_inserter(parts), zmq::recv_flags::dontwait))
    parts.clear();
}

// Sends frames one at a time through `send` and times each until it arrives on `sub`.
template <class Send>
std::vector<double> time_frames(zmq::socket_t& sub, int samples, Send&& send) {
  std::vector<double> us;
  for (int i = 0; i < samples; ++i) {
    const auto t0 = clk::now();
    send(i);
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(sub, std::back_inserter(parts));
    us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return us;
}

std::vector<double> raw_hop(zmq::context_t& ctx, int samples) {
  zmq::socket_t pub(ctx, zmq::socket_type::pub), sub(ctx, zmq::socket_type::sub);
  pub.bind("tcp://127.0.0.1:*");
  sub.set(zmq::sockopt::subscribe, "scan");
  sub.connect(pub.get(zmq::sockopt::last_endpoint));
  const std::string body = scan_frame(0);
  auto send = [&](std::int64_t) {
    pub.send(zmq::buffer(std::string("scan")), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(body));
  };
  until_joined(sub, send);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  drain(sub);
  return time_frames(sub, samples, send);
}

std::vector<double> relay_two_hops(zmq::context_t& ctx, int samples) {
  zmq::context_t relay_ctx(1);  // the engine has its own context too
  zmq::socket_t feed(ctx, zmq::socket_type::pub), sub(ctx, zmq::socket_type::sub);
  zmq::socket_t out(relay_ctx, zmq::socket_type::pub);
  feed.bind("tcp://127.0.0.1:*");
  out.bind("tcp://127.0.0.1:*");
  const std::string feed_ep = feed.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread relay([&] {
    zmq::socket_t in(relay_ctx, zmq::socket_type::sub);
    in.set(zmq::sockopt::subscribe, "scan");
    in.connect(feed_ep);
    while (!stop) {
      zmq::pollitem_t items[] = {{in.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(50));
      std::vector<zmq::message_t> parts;
      while (zmq::recv_multipart(in, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
        out.send(parts[0], zmq::send_flags::sndmore);
        out.send(parts[1], zmq::send_flags::none);
        parts.clear();
      }
    }
  });
  sub.set(zmq::sockopt::subscribe, "scan");
  sub.connect(out.get(zmq::sockopt::last_endpoint));
  const std::string body = scan_frame(0);
  auto send = [&](std::int64_t) {
    feed.send(zmq::buffer(std::string("scan")), zmq::send_flags::sndmore);
    feed.send(zmq::buffer(body));
  };
  until_joined(sub, send);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  drain(sub);
  auto us = time_frames(sub, samples, send);
  stop = true;
  relay.join();
  return us;
}

std::vector<double> through_engine(zmq::context_t& ctx, const std::string& dir, int samples,
                                   bool after_commit, bool curve = false,
                                   const std::string& engine_keys = {},
                                   const char* keys_name = nullptr) {
  zmq::socket_t feed(ctx, zmq::socket_type::pub), sub(ctx, zmq::socket_type::sub);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string engine_curve, source_curve;
  if (curve) {
    const curve_pair engine_key = generate_curve_pair(), feed_key = generate_curve_pair(),
                     client_key = generate_curve_pair();
    const std::string secret = write_curve_files(dir + "/keys", "engine", engine_key).second;
    write_curve_files(dir + "/clients", "client", client_key);
    std::filesystem::remove(dir + "/clients/client.key_secret");
    feed.set(zmq::sockopt::curve_server, true);
    feed.set(zmq::sockopt::curve_secretkey, feed_key.secret_key);
    sub.set(zmq::sockopt::curve_serverkey, engine_key.public_key);
    sub.set(zmq::sockopt::curve_publickey, client_key.public_key);
    sub.set(zmq::sockopt::curve_secretkey, client_key.secret_key);
    engine_curve = "curve = { secret_key_file = \"" + secret + "\", allowed_clients = \"" + dir +
                   "/clients\" }\n";
    source_curve = "curve = { secret_key_file = \"" + secret + "\", server_key = \"" +
                   feed_key.public_key + "\" }\n";
  }
  feed.bind("tcp://127.0.0.1:*");
  const std::string feed_ep = feed.get(zmq::sockopt::last_endpoint);
  const std::string cfg_path = dir + ".toml";
  std::ofstream(cfg_path) << "[engine]\npublish = \"tcp://127.0.0.1:*\"\n"
                          << "publish_after_commit = " << (after_commit ? "true" : "false") << "\n"
                          << engine_curve << engine_keys
                          << "[[source]]\nname = \"feed\"\nkind = \"zmq\"\nconnect = [\"" << feed_ep
                          << "\"]\n"
                          << source_curve << "[[source.stream]]\nname = \"scan\"\n"
                          << "schema = \"scan\"\none_per_bucket = true\ntime = \"payload\"\n"
                          << "[[node]]\nname = \"ret\"\nkind = \"log_return\"\n"
                          << "inputs = { in = \"feed.scan\" }\n";
  config cfg = load_config(cfg_path);
  engine_options opt;
  opt.data_dir = dir + "/data";
  engine eng(cfg, build_plan(cfg), opt);
  eng.start();
  // The port the engine bound (a probe's free port could be taken before the engine binds it).
  const std::string pub_ep = eng.publish_endpoint();
  sub.set(zmq::sockopt::subscribe, "ret");
  sub.connect(pub_ep);
  std::int64_t k = 0;
  auto send = [&](std::int64_t) {
    const std::string body = scan_frame(k++);
    feed.send(zmq::buffer(std::string("scan")), zmq::send_flags::sndmore);
    feed.send(zmq::buffer(body));
  };
  until_joined(sub, send);  // both hops joined: outputs of ret arrive
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  drain(sub);
  auto us = time_frames(sub, samples, send);
  eng.stop();
  const char* name = curve          ? "live_engine_curve"
                     : after_commit ? "live_engine_publish_after_commit"
                     : keys_name    ? keys_name
                                    : "live_engine";
  for (auto s : all_latency_stages) {
    const auto h = eng.latency(s);
    const double mean = h.count() ? h.sum_s / static_cast<double>(h.count()) * 1e6 : 0;
    std::printf("%s_%s_mean_us %.1f\n", name, std::string(to_string(s)).c_str(), mean);
  }
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [SAMPLES]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int samples = argc > 2 ? std::stoi(argv[2]) : 3000;
  // The engine's info lines would land among the figures on stdout (spdlog's default sink).
  spdlog::set_level(spdlog::level::warn);
  zmq::context_t ctx(1);
  report("live_raw_zmq_hop", raw_hop(ctx, samples));
  report("live_raw_relay_two_hops", relay_two_hops(ctx, samples));
  report("live_engine", through_engine(ctx, dir + "/plain", samples, false));
  report("live_engine_publish_after_commit", through_engine(ctx, dir + "/pac", samples, true));
  report("live_engine_curve", through_engine(ctx, dir + "/curve", samples, false, true));
  // One worker spins: on two cores, two would leave the ZeroMQ threads none. The same single
  // worker without spinning tells the two changes apart.
  report("live_engine_one_worker", through_engine(ctx, dir + "/one", samples, false, false,
                                                  "workers = 1\n", "live_engine_one_worker"));
  report("live_engine_idle_spin",
         through_engine(ctx, dir + "/spin", samples, false, false,
                        "workers = 1\nidle_spin_us = " + idle_spin_bench + "\n",
                        "live_engine_idle_spin"));
  std::filesystem::remove_all(dir);
  return 0;
}
