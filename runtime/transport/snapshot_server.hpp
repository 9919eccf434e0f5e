#pragma once
// snapshot_server: a ROUTER socket that lets late joiners catch up. A request is one msgpack
// frame {topic: str, n: int}; the reply is {ok: true, topic, outputs: [Output…]} with the last n
// outputs of that topic, oldest first, exactly as they were published under that topic (or
// {ok: false, error}). Everything emitted before the request is flushed to the store first,
// so a client that subscribed before asking sees no gap between snapshot and live stream.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/graph/plan.hpp"
#include "runtime/store/store_writer.hpp"
#include "runtime/transport/zap_handler.hpp"

namespace zmq {
class context_t;
}

namespace shoal {

class snapshot_server {
 public:
  // Binds before returning (throws on a bind error).
  // zap: CURVE (zap_handler.hpp), null for none.
  snapshot_server(zmq::context_t& ctx, std::string endpoint, std::shared_ptr<const plan> graph,
                  const store& db, std::shared_ptr<store_writer> writer,
                  zap_handler* zap = nullptr);
  ~snapshot_server();
  void stop();
  const std::string& endpoint() const { return endpoint_; }
  // The graph changed (a strategy submitted or removed): serve its topics from now on.
  void set_graph(std::shared_ptr<const plan> graph);

 private:
  void run(void* socket);
  std::string answer(const std::string& request);

  std::string endpoint_;
  std::mutex graph_mu_;
  std::shared_ptr<const plan> graph_;
  const store& db_;
  std::shared_ptr<store_writer> writer_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<struct snapshot_socket> sock_;
  std::thread thread_;
};

}  // namespace shoal
