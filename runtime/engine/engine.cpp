#include "runtime/engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <zmq.hpp>

#include "runtime/engine/node_host.hpp"
#include "runtime/engine/sources.hpp"

namespace shoal {

struct engine::impl {
  config cfg;
  std::shared_ptr<const plan> graph;
  std::size_t threads;
  zmq::context_t zmq_ctx{1};
  std::shared_ptr<status_board> board = std::make_shared<status_board>();
  std::shared_ptr<publisher> pub;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> node_actors;  // by plan index
  std::vector<caf::actor> source_actors;
  std::vector<std::unique_ptr<zmq_source>> zmq_sources;
  std::vector<std::shared_ptr<node_report>> reports;
  engine_counts counts;
  bool started = false, stopped = false;

  void spawn_nodes() {
    const auto& nodes = graph->nodes;
    std::vector<std::vector<subscriber>> subs(nodes.size());
    node_actors.resize(nodes.size());
    reports.resize(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      node_report r;
      r.id = nodes[i].id;
      r.kind = nodes[i].kind;
      r.names = nodes[i].names;
      reports[i] = board->add(std::move(r));
    }
    // Downstream first (reverse topological order), so each actor starts knowing its subscribers.
    for (std::size_t i = nodes.size(); i-- > 0;) {
      node_actors[i] =
          spawn_node_host(*sys, node_host_args{graph, i, subs[i], pub, board, reports[i]});
      for (std::size_t p = 0; p < nodes[i].inputs.size(); ++p)
        subs[nodes[i].inputs[p].upstream].push_back(
            {node_actors[i], static_cast<std::uint32_t>(p)});
      (nodes[i].is_stream() ? counts.stream_actors : counts.node_actors) += 1;
    }
  }

  void start_sources() {
    // Two sources with identical params share their stream nodes (same NodeIDs): feed them once.
    std::set<std::size_t> fed;
    for (std::size_t s = 0; s < cfg.sources.size(); ++s) {
      const source_decl& decl = cfg.sources[s];
      std::vector<stream_target> targets;
      bool fresh = false;
      for (const auto& st : decl.streams) {
        std::size_t idx = graph->by_name.at(decl.name + "." + st.name);
        fresh |= fed.insert(idx).second;
        targets.push_back({node_actors[idx], reports[idx]});
      }
      if (!fresh) continue;
      if (decl.kind == "fabricator")
        source_actors.push_back(spawn_fabricator_source(*sys, decl, std::move(targets)));
      else
        zmq_sources.push_back(
            std::make_unique<zmq_source>(zmq_ctx, decl, std::move(targets), board));
      ++counts.source_feeds;
    }
  }
};

engine::engine(config cfg, plan p, std::size_t threads) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->graph = std::make_shared<const plan>(std::move(p));
  impl_->threads = threads;
}

engine::~engine() { stop(); }

void engine::start() {
  auto& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.pub = std::make_shared<publisher>(m.zmq_ctx, m.cfg.engine.publish,
                                      static_cast<int>(m.cfg.engine.publish_hwm));
  m.sys_cfg = std::make_unique<caf::actor_system_config>();
  m.sys_cfg->set("scheduler.max-threads", m.threads);
  m.sys = std::make_unique<caf::actor_system>(*m.sys_cfg);
  m.spawn_nodes();
  m.start_sources();
  spdlog::info(
      "engine {}: spawned {} node actors and {} stream actors ({} distinct of {} declared nodes, "
      "reuse {}/{}), {} source feeds; publishing on {}",
      m.cfg.engine.name, m.counts.node_actors, m.counts.stream_actors, m.graph->distinct,
      m.graph->declared, m.graph->reused(), m.graph->declared, m.counts.source_feeds,
      m.cfg.engine.publish);
}

void engine::stop() {
  auto& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  for (auto& z : m.zmq_sources) z->stop();
  for (auto& a : m.source_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : m.node_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  m.sys->await_all_actors_done();
  m.source_actors.clear();
  m.node_actors.clear();
  m.sys.reset();
  m.pub->stop();
}

engine_counts engine::counts() const { return impl_->counts; }
std::vector<node_report> engine::nodes() const { return impl_->board->snapshot(); }
publisher_stats engine::publish_stats() const {
  return impl_->pub ? impl_->pub->stats() : publisher_stats{};
}
const plan& engine::graph() const { return *impl_->graph; }

}  // namespace shoal
