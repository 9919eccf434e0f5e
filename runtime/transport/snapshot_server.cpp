#include "runtime/transport/snapshot_server.hpp"

#include <spdlog/spdlog.h>

#include <zmq.hpp>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/transport/snapshot_request.hpp"

namespace shoal {

struct snapshot_socket {
  zmq::socket_t s;
};

void snapshot_server::set_graph(std::shared_ptr<const plan> graph) {
  std::lock_guard lock(graph_mu_);
  graph_ = std::move(graph);
}

snapshot_server::snapshot_server(zmq::context_t& ctx, std::string endpoint,
                                 std::shared_ptr<const plan> graph, const store& db,
                                 std::shared_ptr<store_writer> writer, zap_handler* zap)
    : graph_(std::move(graph)), db_(db), writer_(std::move(writer)) {
  sock_ = std::make_unique<snapshot_socket>(
      snapshot_socket{zmq::socket_t(ctx, zmq::socket_type::router)});
  sock_->s.set(zmq::sockopt::linger, 0);
  if (zap) zap->secure(sock_->s, "snapshot");
  try {
    sock_->s.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot bind snapshot endpoint " + endpoint + ": " + e.what());
  }
  endpoint_ = sock_->s.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { run(nullptr); });
}

snapshot_server::~snapshot_server() { stop(); }

void snapshot_server::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string snapshot_server::answer(const std::string& request) {
  auto error = [](const std::string& why) {
    return to_msgpack(Value(value_map{{"ok", Value(false)}, {"error", Value(why)}}));
  };
  snapshot_request req;
  try {
    req = decode_snapshot_request(request);
  } catch (const decode_error& e) {
    return error(std::string("bad snapshot request: ") + e.what());
  }
  std::shared_ptr<const plan> graph;
  {
    std::lock_guard lock(graph_mu_);
    graph = graph_;
  }
  auto it = graph->by_name.find(req.topic);
  if (it == graph->by_name.end()) return error("unknown topic \"" + req.topic + "\"");
  if (writer_) writer_->flush();  // everything emitted so far is in the store
  value_list outputs;
  const decode_limits limits = stored_data_limits();
  for (const auto& bytes : db_.last_outputs(graph->nodes[it->second].id, req.n)) {
    Value o = from_msgpack(bytes, limits);
    o.as_map()["node"] = Value(req.topic);  // as published under this topic
    outputs.push_back(std::move(o));
  }
  return to_msgpack(Value(value_map{
      {"ok", Value(true)}, {"topic", Value(req.topic)}, {"outputs", Value(std::move(outputs))}}));
}

void snapshot_server::run(void*) {
  auto& sock = sock_->s;
  while (!stop_) {
    zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t m;
      if (!sock.recv(m, zmq::recv_flags::dontwait)) break;
      frames.push_back(std::move(m));
    } while (frames.back().more());
    if (frames.size() < 2) continue;
    // [identity][(empty, from REQ)][request]: reply with the same envelope.
    std::string reply;
    try {
      reply = answer(frames.back().to_string());
    } catch (const std::exception& e) {
      reply = to_msgpack(Value(value_map{{"ok", Value(false)}, {"error", Value(e.what())}}));
    }
    for (std::size_t i = 0; i + 1 < frames.size(); ++i)
      sock.send(frames[i], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    sock.send(zmq::buffer(reply), zmq::send_flags::dontwait);
  }
}

}  // namespace shoal
