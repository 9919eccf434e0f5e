#pragma once
// engine::impl: the running engine's parts, shared by engine.cpp (lifecycle, replay,
// checkpoints) and engine_admin.cpp (the admin commands). Private to runtime/engine: CAF.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <zmq.hpp>

#include "messages/msgpack_codec.hpp"
#include "runtime/admin/admin_server.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/node_host.hpp"
#include "runtime/engine/snapshot_server.hpp"
#include "runtime/sources/sources.hpp"

namespace shoal {

struct engine::impl {
  config cfg;
  std::shared_ptr<const plan> graph;
  engine_options opt;
  zmq::context_t zmq_ctx{1};
  std::shared_ptr<status_board> board = std::make_shared<status_board>();
  std::shared_ptr<flow_control> flow = std::make_shared<flow_control>();
  std::shared_ptr<publisher> pub;
  std::unique_ptr<store> db;
  std::shared_ptr<store_writer> writer;
  std::shared_ptr<ingest> gate;
  std::shared_ptr<digest_board> digests;  // when opt.digest
  std::uint64_t final_unmatched = 0;      // the gate's count, kept when it goes at stop
  std::unique_ptr<snapshot_server> snapshots;
  std::unique_ptr<admin_server> admin;
  bool any_paused = false;
  bool caught_up = false;  // the restored state has seen the whole journal
  // Guards cfg, graph, node_actors and reports: admin commands (which may re-plan), periodic
  // checkpoints and stop take it, so none sees a graph half-changed.
  std::recursive_mutex graph_mu;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> node_actors;  // by plan index
  std::vector<std::unique_ptr<thread_source>> threads;
  std::vector<std::shared_ptr<node_report>> reports;
  engine_counts counts;
  std::int64_t min_interval = 0;
  std::int64_t last_checkpoint_ts = INT64_MIN;
  std::uint64_t ticks = 0;
  bool started = false, stopped = false;

  std::map<std::string, std::string> load_checkpoints() {
    if (!db || !db->get_meta("checkpoint")) return {};
    return db->all_state();
  }

  std::uint64_t checkpoint_position() const {
    if (!db) return 0;
    auto meta = db->get_meta("checkpoint");
    if (!meta) return 0;
    return static_cast<std::uint64_t>(from_msgpack(*meta).find("journal_pos")->as_int());
  }

  void spawn_nodes() {
    const auto& nodes = graph->nodes;
    auto saved = load_checkpoints();
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
      node_host_args args{graph,        i,      subs[i], opt.publish ? pub : nullptr,
                          writer,       flow,   board,   reports[i],
                          std::nullopt, nullptr};
      if (auto it = saved.find(nodes[i].id); it != saved.end()) args.checkpoint = it->second;
      if (digests) args.digest = digests->chain(nodes[i].id);
      node_actors[i] = spawn_node_host(*sys, std::move(args));
      for (std::size_t p = 0; p < nodes[i].inputs.size(); ++p)
        subs[nodes[i].inputs[p].upstream].push_back(
            {node_actors[i], static_cast<std::uint32_t>(p)});
      (nodes[i].is_stream() ? counts.stream_actors : counts.node_actors) += 1;
    }
    if (!saved.empty())
      spdlog::info("restored {} node checkpoints from {}", saved.size(), opt.data_dir);
  }

  void make_ingest() {
    std::map<std::string, ingest_target, std::less<>> streams;
    for (std::size_t i = 0; i < graph->nodes.size(); ++i)
      if (graph->nodes[i].is_stream())
        for (const auto& name : graph->nodes[i].names) streams[name] = {node_actors[i], reports[i]};
    ingest_options io;
    io.clock = &clk();
    io.reject_keep_bytes = static_cast<std::size_t>(cfg.engine.reject_keep_bytes);
    gate = std::make_shared<ingest>(std::move(streams), opt.live ? writer.get() : nullptr, *flow,
                                    board, io);
  }

  // After a restart: what the journal holds beyond the checkpoint goes through the graph again
  // (outputs are rewritten with identical bytes) before live input continues.
  void catch_up() {
    if (!db) return;
    const std::uint64_t from = checkpoint_position(), last = db->journal_last();
    if (last <= from) return;
    spdlog::info("catching up journal records {}..{} after the last checkpoint", from + 1, last);
    for (std::uint64_t pos = from; pos < last;) {
      std::vector<journal_record> batch;
      db->read_journal(pos, 4096, [&](std::uint64_t seq, std::string_view bytes) {
        batch.push_back(decode_journal_record(bytes));
        pos = seq;
      });
      if (batch.empty()) break;
      for (const auto& r : batch) {
        flow->wait_below(4096);
        gate->forward(r);
      }
    }
    flow->wait_idle();
  }

  void start_sources() {
    std::set<std::size_t> fed;  // identical sources share their stream nodes: feed them once
    for (const auto& decl : cfg.sources) {
      bool fresh = false;
      for (const auto& st : decl.streams)
        fresh |= fed.insert(graph->by_name.at(decl.name + "." + st.name)).second;
      if (!fresh) continue;
      if (decl.kind == "fabricator")
        threads.push_back(start_fabricator_source(decl, gate, clk()));
      else if (decl.kind == "zmq")
        threads.push_back(start_zmq_source(zmq_ctx, decl, gate, clk()));
      else
        threads.push_back(start_journal_source(decl, gate, clk()));
      ++counts.source_feeds;
    }
  }

  void stop_sources() {
    for (auto& t : threads) t->stop();
  }

  shoal::clock& clk() const { return opt.clock ? *opt.clock : system_clock(); }
};

// The admin commands of a running engine (runtime/engine/engine_admin.cpp).
std::shared_ptr<admin_backend> make_engine_admin(engine::impl& m);
std::string engine_metrics_text(engine::impl& m);
// Runtime strategy changes (runtime/engine/engine_strategies.cpp); call with graph_mu held.
nlohmann::json engine_submit(engine::impl& m, const std::string& file);
nlohmann::json engine_remove(engine::impl& m, const std::string& strategy);

}  // namespace shoal
