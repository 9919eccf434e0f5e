#include "runtime/engine/engine_impl.hpp"

#include <filesystem>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <zmq.hpp>

#include "messages/msgpack_codec.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/node_host.hpp"
#include "runtime/engine/snapshot_server.hpp"
#include "runtime/sources/sources.hpp"

namespace shoal {

engine::engine(config cfg, plan p, engine_options o) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->graph = std::make_shared<const plan>(std::move(p));
  impl_->opt = std::move(o);
  for (const auto& s : impl_->cfg.sources)
    if (impl_->min_interval == 0 || s.interval_ns < impl_->min_interval)
      impl_->min_interval = s.interval_ns;
}

engine::~engine() { stop(); }

void engine::start() {
  auto& m = *impl_;
  if (m.started) return;
  m.started = true;
  if (m.opt.publish)
    m.pub = std::make_shared<publisher>(m.zmq_ctx, m.cfg.engine.publish,
                                        static_cast<int>(m.cfg.engine.publish_hwm),
                                        m.cfg.engine.publish_tracked);
  if (!m.opt.data_dir.empty()) {
    m.db = std::make_unique<store>(m.opt.data_dir, true);
    auto commit = m.opt.commit;
    if (!commit.clock) commit.clock = &m.clk();
    m.writer = std::make_shared<store_writer>(*m.db, commit);
    m.writer->put_meta("engine_version", SHOAL_ENGINE_VERSION);
    m.writer->put_meta("graph_hash", m.graph->graph_hash);
    if (!m.opt.config_text.empty()) m.writer->put_meta("config", m.opt.config_text);
  }
  if (m.opt.digest) m.digests = std::make_shared<digest_board>();
  m.sys_cfg = std::make_unique<caf::actor_system_config>();
  // Sources run on threads of their own: the scheduler's threads are the node actors' alone.
  m.sys_cfg->set("scheduler.max-threads", m.opt.threads);
  m.sys = std::make_unique<caf::actor_system>(*m.sys_cfg);
  m.spawn_nodes();
  m.make_ingest();
  if (m.opt.live && m.db && !m.cfg.engine.snapshot.empty())
    m.snapshots = std::make_unique<snapshot_server>(m.zmq_ctx, m.cfg.engine.snapshot, m.graph,
                                                    *m.db, m.writer);
  if (m.opt.live) {
    m.catch_up();
    if (m.db) m.gate->resume_from(*m.db);
    m.start_sources();
  }
  // Only now may a stop() checkpoint: before the journal tail went through the nodes, their
  // state is behind the journal's end and a checkpoint would skip those records.
  m.caught_up = true;
  // Last: admin commands (which may re-plan) never race the start-up above.
  if (m.opt.live && (m.db || !m.cfg.engine.admin.empty())) {
    admin_options ao;
    ao.unix_path = !m.cfg.engine.admin.empty()
                       ? m.cfg.engine.admin
                       : (std::filesystem::path(m.opt.data_dir) / "shoal.sock").string();
    ao.tcp = m.cfg.engine.admin_tcp;
    ao.token = m.cfg.engine.admin_token;
    ao.http = m.cfg.engine.metrics_http;
    ao.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(m.cfg.engine.admin_idle_timeout_ns));
    ao.http_idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(m.cfg.engine.metrics_idle_timeout_ns));
    m.admin = std::make_unique<admin_server>(ao, make_engine_admin(m));
  }

  spdlog::info(
      "engine {}: spawned {} node actors and {} stream actors ({} distinct of {} declared nodes, "
      "reuse {}/{}), {} source feeds{}{}",
      m.cfg.engine.name, m.counts.node_actors, m.counts.stream_actors, m.graph->distinct,
      m.graph->declared, m.graph->reused(), m.graph->declared, m.counts.source_feeds,
      m.opt.publish ? "; publishing on " + m.pub->endpoint() : "",
      m.db ? "; data in " + m.opt.data_dir : "");
}

replay_stats engine::replay(const store& from, const replay_options& o) {
  auto& m = *impl_;
  replay_stats st;
  const std::uint64_t total = from.journal_count();
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  std::int64_t first_ts = INT64_MIN;
  const bool tty = o.progress && isatty(fileno(stderr));
  auto print = [&](bool final) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = secs > 0 ? st.records / secs : 0;
    const double eta = rate > 0 ? (total - st.records) / rate : 0;
    std::fprintf(stderr, "\rreplay: %llu/%llu records  %.0f records/s  ETA %.1fs   %s",
                 (unsigned long long)st.records, (unsigned long long)total, rate, eta,
                 final ? "\n" : "");
    std::fflush(stderr);
  };
  for (std::uint64_t pos = 0;;) {
    std::vector<journal_record> batch;
    from.read_journal(pos, 4096, [&](std::uint64_t seq, std::string_view bytes) {
      batch.push_back(decode_journal_record(bytes));
      pos = seq;
    });
    if (batch.empty()) break;
    for (const auto& r : batch) {
      if (o.speed > 0) {
        if (const auto* e = std::get_if<Event>(&r)) {
          if (first_ts == INT64_MIN) first_ts = e->ts;
          const auto due = t0 + std::chrono::nanoseconds(
                                    static_cast<std::int64_t>((e->ts - first_ts) / o.speed));
          std::this_thread::sleep_until(due);
        }
      }
      m.flow->wait_below(o.max_inflight);
      m.gate->forward(r);
      ++st.records;
      if (std::holds_alternative<Event>(r))
        ++st.events;
      else if (std::holds_alternative<Watermark>(r))
        ++st.watermarks;
      else if (std::holds_alternative<Rejected>(r))
        ++st.rejected;
      else
        ++st.controls;
    }
    // Keep RSS flat however long the journal: drop the map pages read (source) and touched
    // by output writes (target) every 64k records.
    if (st.records % 65536 < batch.size()) {
      from.release_mapped_pages();
      if (m.db) m.db->release_mapped_pages();
    }
    if (tty && std::chrono::steady_clock::now() - last_print > std::chrono::milliseconds(200)) {
      print(false);
      last_print = std::chrono::steady_clock::now();
    }
  }
  m.flow->wait_idle();
  if (m.writer) m.writer->flush();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (tty) print(true);
  return st;
}

void engine::tick() {
  auto& m = *impl_;
  if (m.db && ++m.ticks % 250 == 0) m.db->release_mapped_pages();  // about every 5 s of running
  if (!m.started || m.stopped || !m.writer || !m.opt.live || m.opt.checkpoint_every <= 0) return;
  const std::int64_t ts = m.gate->max_ts();
  if (ts == INT64_MIN) return;
  if (m.last_checkpoint_ts == INT64_MIN) m.last_checkpoint_ts = ts;
  if (ts - m.last_checkpoint_ts >= m.opt.checkpoint_every * m.min_interval) {
    checkpoint();
    m.last_checkpoint_ts = ts;
  }
}

void engine::checkpoint() {
  auto& m = *impl_;
  std::lock_guard graph_lock(m.graph_mu);
  if (!m.writer || !m.sys || !m.caught_up) return;
  if (m.any_paused) {  // a paused node's held inputs are in no checkpoint: wait for resume
    spdlog::debug("checkpoint skipped: a node is paused");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  m.gate->pause();
  m.flow->wait_idle();
  const std::uint64_t pos = m.db ? m.writer->last_journal_seq() : 0;
  {
    caf::scoped_actor self{*m.sys};
    for (std::size_t i = 0; i < m.node_actors.size(); ++i) {
      self->request(m.node_actors[i], caf::infinite, checkpoint_atom::value)
          .receive(
              [&](std::string& bytes) {
                m.writer->put_state(m.graph->nodes[i].id, std::move(bytes));
              },
              [&](caf::error& e) {
                spdlog::error("checkpoint of {} failed: {}", m.graph->nodes[i].name(),
                              m.sys->render(e));
              });
    }
  }
  m.writer->put_meta("checkpoint", to_msgpack(Value(value_map{{"journal_pos", Value(pos)}})));
  m.writer->flush();
  m.gate->resume();
  spdlog::debug(
      "checkpoint at journal position {} in {} ms", pos,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

bool engine::sources_done() const {
  const auto& m = *impl_;
  if (m.threads.empty()) return false;
  for (const auto& t : m.threads)
    if (!t->done()) return false;
  return true;
}

void engine::stop() {
  auto& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  // start() may have thrown part-way (a busy port, a bad data dir): tear down what exists.
  if (m.admin) m.admin->stop();  // no command may reach actors that are going away
  if (m.sys) {
    m.stop_sources();
    if (m.any_paused) {  // held inputs are handled before the final checkpoint
      caf::scoped_actor self{*m.sys};
      for (auto& a : m.node_actors)
        self->request(a, caf::infinite, pause_atom::value, false)
            .receive([](bool) {}, [](caf::error&) {});
      m.any_paused = false;
    }
    m.flow->wait_idle();
    if (m.opt.live && m.writer && m.gate) checkpoint();
    for (auto& a : m.node_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    m.sys->await_all_actors_done();
    m.node_actors.clear();
    if (m.gate) m.final_unmatched = m.gate->unmatched_topics();
    m.gate.reset();
    m.sys.reset();
  }
  if (m.snapshots) m.snapshots->stop();
  if (m.writer) m.writer->stop();
  if (m.pub) m.pub->stop();
}

engine_counts engine::counts() const { return impl_->counts; }
std::vector<node_report> engine::nodes() const { return impl_->board->snapshot(); }
publisher_stats engine::publish_stats() const {
  return impl_->pub ? impl_->pub->stats() : publisher_stats{};
}

std::vector<subscriber_stats> engine::subscribers() const {
  return impl_->pub ? impl_->pub->subscribers() : std::vector<subscriber_stats>{};
}
writer_stats engine::store_stats() const {
  return impl_->writer ? impl_->writer->stats() : writer_stats{};
}
const plan& engine::graph() const { return *impl_->graph; }
std::uint64_t engine::unmatched_topics() const {
  return impl_->gate ? impl_->gate->unmatched_topics() : impl_->final_unmatched;
}
digest_set engine::digests() const {
  return impl_->digests ? impl_->digests->result() : digest_set{};
}

}  // namespace shoal
