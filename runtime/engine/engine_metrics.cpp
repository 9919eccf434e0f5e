// The engine's metrics for /metrics and admin `metrics`: per-node counters, state, event-time
// watermark and lag, window size and compute time; per-stage latency of the live path; idle source
// streams; build info and the process_* family; the publisher's and the tracked subscribers'
// counts; the store's commit times; ingest's unmatched topics; dedup. Written by
// runtime/metrics/prometheus_text.
#include "runtime/engine/engine_impl.hpp"
#include "runtime/metrics/process_metrics.hpp"
#include "runtime/metrics/prometheus_text.hpp"

namespace shoal {

namespace {

void write_engine_live(prometheus_text& t, bool live) {
  t.family("shoal_engine_live", "gauge",
           "1 once the engine is live; 0 while it starts (then only the start's metrics).");
  t.sample("shoal_engine_live", {}, live ? 1 : 0);
}

}  // namespace

std::string engine_metrics_text(engine::impl& m) {
  prometheus_text t;
  const auto rs = m.node_reports();
  const auto node = [](const node_report& r) { return metric_labels{{"node", r.names.front()}}; };
  const auto counter = [&](const char* name, const char* help, auto get) {
    t.family(name, "counter", help);
    for (const auto& r : rs) t.sample(name, node(r), get(r));
  };
  counter("shoal_events_in_total", "Inputs a node handled.",
          [](const node_report& r) { return r.events_in; });
  counter("shoal_outputs_total", "Outputs a node emitted.",
          [](const node_report& r) { return r.outputs; });
  counter("shoal_late_dropped_total", "Late events dropped.",
          [](const node_report& r) { return r.late_dropped; });
  counter("shoal_rejected_total", "Inputs rejected at ingest.",
          [](const node_report& r) { return r.rejected; });
  counter("shoal_input_gaps_total",
          "Inputs that never arrived: seqs another engine's outputs skipped, scan_numbers a feed "
          "skipped.",
          [](const node_report& r) { return r.gaps; });
  t.family("shoal_node_state", "gauge", "1 for the node's current state, 0 for the others.");
  for (const auto& r : rs) {
    for (auto s : all_node_states) {
      t.sample("shoal_node_state", {{"node", r.names.front()}, {"state", to_string(s)}},
               r.state == s ? 1 : 0);
    }
  }
  // Event time: each node's watermark, and how far it trails the freshest source stream (a
  // node that stops keeping up, or an input that went quiet without idle watermarks).
  std::int64_t freshest = INT64_MIN;
  for (const auto& r : rs) freshest = std::max(freshest, r.watermark);
  t.family("shoal_node_watermark_seconds", "gauge",
           "Event time (unix seconds) through which a node has closed its buckets.");
  for (const auto& r : rs) {
    if (r.watermark != INT64_MIN)
      t.sample("shoal_node_watermark_seconds", node(r), r.watermark / 1e9);
  }
  t.family("shoal_node_lag_seconds", "gauge",
           "Event time by which a node's watermark trails the freshest source stream's.");
  for (const auto& r : rs) {
    if (r.watermark != INT64_MIN) {
      t.sample("shoal_node_lag_seconds", node(r), (freshest - r.watermark) / 1e9);
    }
  }
  t.family("shoal_stream_idle", "gauge",
           "1 while a source stream is idle (quiet for its source's idle_timeout), else 0.");
  for (const auto& r : rs) {
    if (r.stream) t.sample("shoal_stream_idle", node(r), r.idle ? 1 : 0);
  }
  t.family("shoal_window_resident_bytes", "gauge",
           "Bytes held by a node's window, payloads included.");
  for (const auto& r : rs) t.sample("shoal_window_resident_bytes", node(r), r.window_bytes);
  t.family("shoal_node_compute_seconds", "histogram", "Kernel compute time per fired bucket.");
  for (const auto& r : rs) {
    t.histogram("shoal_node_compute_seconds", node(r), compute_bounds_s, r.compute_counts,
                r.compute_sum_s);
  }

  if (m.latency) {
    t.family("shoal_latency_seconds", "histogram",
             "Time from a frame's receipt by its source to the end of each stage: ingest (handed "
             "to its stream node), fire (a node starts a bucket it closed), encode (that output "
             "encoded), send (handed to the PUB socket).");
    for (auto s : all_latency_stages) {
      const auto h = m.latency->snapshot(s);
      t.histogram("shoal_latency_seconds", {{"stage", std::string(to_string(s))}}, latency_bounds_s,
                  h.counts, h.sum_s);
    }
  }

  const auto ps = m.pub ? m.pub->stats() : publisher_stats{};
  t.family("shoal_published_total", "counter", "Frames handed to the PUB socket.");
  t.sample("shoal_published_total", {}, ps.sent);
  t.family("shoal_publish_dropped_total", "counter",
           "Frames dropped because the publish queue was full.");
  t.sample("shoal_publish_dropped_total", {}, ps.queue_dropped);
  if (m.pub && !m.cfg.engine.publish_tracked.empty()) {
    const auto subs = m.pub->subscribers();
    std::size_t connected = 0;
    for (const auto& s : subs) connected += s.connected;
    t.family("shoal_subscribers_connected", "gauge",
             "Subscribers of the tracked publish endpoint.");
    t.sample("shoal_subscribers_connected", {}, connected);
    t.family("shoal_subscriber_sent_total", "counter", "Outputs queued for a tracked subscriber.");
    for (const auto& s : subs)
      t.sample("shoal_subscriber_sent_total", {{"subscriber", s.name}}, s.sent);
    t.family("shoal_subscriber_dropped_total", "counter",
             "Outputs dropped for a tracked subscriber whose queue was full.");
    for (const auto& s : subs) {
      t.sample("shoal_subscriber_dropped_total", {{"subscriber", s.name}}, s.dropped);
    }
  }

  const auto ws = m.writer ? m.writer->stats() : writer_stats{};
  t.family("shoal_journal_commit_seconds", "histogram", "Time per group commit of the store.");
  t.histogram("shoal_journal_commit_seconds", {}, commit_bounds_s, ws.commit_counts,
              ws.commit_ns / 1e9);
  t.family("shoal_unmatched_topics_total", "counter",
           "Frames of topics that are no stream of their zmq source (ZeroMQ subscriptions match "
           "prefixes).");
  t.sample("shoal_unmatched_topics_total", {}, m.gate ? m.gate->unmatched_topics() : 0);
  t.family("shoal_source_handshake_failures_total", "counter",
           "Connections of zmq sources whose CURVE handshake failed (wrong server key, a key the "
           "feed does not allow).");
  t.sample("shoal_source_handshake_failures_total", {}, m.gate ? m.gate->handshake_failures() : 0);
  if (m.zap) {
    const auto c = m.zap->counters();
    t.family("shoal_curve_handshakes_total", "counter",
             "CURVE handshakes on the engine's endpoints, by result: accepted, unknown_key (a "
             "client key not in allowed_clients), no_curve (a client without CURVE or with another "
             "server key).");
    t.sample("shoal_curve_handshakes_total", {{"result", "accepted"}}, c.accepted);
    t.sample("shoal_curve_handshakes_total", {{"result", "unknown_key"}}, c.unknown_key);
    t.sample("shoal_curve_handshakes_total", {{"result", "no_curve"}}, c.no_curve);
    t.family("shoal_curve_allowed_keys", "gauge", "Client keys in allowed_clients.");
    t.sample("shoal_curve_allowed_keys", {}, c.keys);
  }
  if (m.replicator) {
    const replication_stats c = m.replicator->stats();
    t.family("shoal_cluster_journal_replicated", "gauge",
             "Last journal seq through which every record is in the cluster's stream.");
    t.sample("shoal_cluster_journal_replicated", {}, c.replicated);
    t.family("shoal_cluster_journal_lag_records", "gauge",
             "Committed journal records not yet acknowledged by the cluster.");
    t.sample("shoal_cluster_journal_lag_records", {},
             c.committed - std::min(c.committed, c.replicated));
    t.family("shoal_cluster_journal_lag_seconds", "gauge",
             "How long ago the oldest journal record not yet in the cluster's stream was "
             "committed: the feed a host lost now would lose.");
    t.sample("shoal_cluster_journal_lag_seconds", {}, c.lag_ms / 1e3);
    t.family("shoal_cluster_publish_failures_total", "counter",
             "Batches of journal records sent again (no leader, a server down, a timeout).");
    t.sample("shoal_cluster_publish_failures_total", {}, c.failures);
    t.family("shoal_cluster_reconnects_total", "counter", "Reconnections to the NATS cluster.");
    t.sample("shoal_cluster_reconnects_total", {}, c.reconnects);
  }
  if (m.exporter) {
    const output_export_stats c = m.exporter->stats();
    t.family("shoal_cluster_outputs_sent_total", "counter",
             "stream_outputs: outputs this process put in the cluster's stream (duplicates "
             "included).");
    t.sample("shoal_cluster_outputs_sent_total", {}, c.sent);
    t.family("shoal_cluster_outputs_behind", "gauge",
             "stream_outputs: outputs stored here and not yet in the stream at the last pass (at "
             "most a batch per node).");
    t.sample("shoal_cluster_outputs_behind", {}, c.behind);
    t.family("shoal_cluster_outputs_gaps_total", "counter",
             "stream_outputs: seqs missing from a node's subject that no process sent (their "
             "process gone before it did, and this one never held them).");
    t.sample("shoal_cluster_outputs_gaps_total", {}, c.gaps);
    t.family("shoal_cluster_outputs_filled_total", "counter",
             "stream_outputs: seqs missing below a node's subject's end (a batch stored in part by "
             "a process gone before its resend) that this process sent from its own outputs.");
    t.sample("shoal_cluster_outputs_filled_total", {}, c.filled);
    t.family("shoal_cluster_outputs_held", "gauge",
             "stream_outputs: batches of stored outputs waiting for the stream to hold the "
             "journal records they came from (a replication that lags).");
    t.sample("shoal_cluster_outputs_held", {}, c.holds);
  }
  if (m.placement && !m.standby && !m.fenced) {  // a fenced process places nothing any more
    t.family("shoal_cluster_nodes_unpublished", "gauge",
             "Placed: nodes whose process is gone with no process to go to, so that nobody "
             "publishes them until it starts again.");
    t.sample("shoal_cluster_nodes_unpublished", {}, m.unpublished.size());
  }
  if (m.follower && m.standby) {
    const journal_follower::lag l = m.follower->follow_lag();
    t.family("shoal_cluster_follow_lag_records", "gauge",
             "Standby: journal records of the engine in the cluster's stream that it has not "
             "taken yet.");
    t.sample("shoal_cluster_follow_lag_records", {}, l.records);
    t.family("shoal_cluster_follow_lag_seconds", "gauge",
             "Standby: how long ago it found the oldest record it has not taken in the stream: "
             "how late its outputs are, and what a takeover reads first.");
    t.sample("shoal_cluster_follow_lag_seconds", {}, l.ms / 1e3);
  }
  if (m.uploader) {  // checkpoints in the cluster: an alert on a position that stops moving
    const checkpoint_uploader::stats c = m.uploader->snapshot();
    t.family("shoal_cluster_checkpoint_journal_pos", "gauge",
             "Journal position of the last checkpoint this process put in the cluster.");
    t.sample("shoal_cluster_checkpoint_journal_pos", {}, c.journal_pos);
    t.family("shoal_cluster_checkpoint_failures_total", "counter",
             "Checkpoint writes to the cluster that failed (each tried again).");
    t.sample("shoal_cluster_checkpoint_failures_total", {}, c.failures);
  }
  t.family("shoal_reuse_ratio", "gauge", "Declared nodes served by another's actor (dedup).");
  t.sample("shoal_reuse_ratio", {}, m.graph->reuse_ratio());
  t.family("shoal_actors_alive", "gauge", "Node actors running.");
  t.sample("shoal_actors_alive", {}, m.node_actors.size());
  t.family("shoal_build_info", "gauge", "1, labelled with the engine's version, name and graph.");
  t.sample("shoal_build_info",
           {{"version", SHOAL_ENGINE_VERSION},
            {"engine", m.cfg.engine.name},
            {"graph_hash", m.graph->graph_hash}},
           1);
  write_engine_live(t, true);
  write_process_metrics(t, sample_process());
  return t.str();
}

// While start() runs (it may replace cfg and graph): what m.progress says, build info as the
// start began, and the process.
std::string starting_metrics_text(const engine::impl& m) {
  prometheus_text t;
  const auto& p = m.progress;
  write_engine_live(t, false);
  t.family("shoal_catch_up_journal_record", "gauge",
           "While a start catches up: the journal record it went through, and the journal's last.");
  t.sample("shoal_catch_up_journal_record", {{"of", "through"}}, p.through.load());
  t.sample("shoal_catch_up_journal_record", {{"of", "last"}}, p.last.load());
  t.family("shoal_build_info", "gauge", "1, labelled with the engine's version, name and graph.");
  t.sample("shoal_build_info",
           {{"version", SHOAL_ENGINE_VERSION}, {"engine", p.engine}, {"graph_hash", p.graph_hash}},
           1);
  write_process_metrics(t, sample_process());
  return t.str();
}

}  // namespace shoal
