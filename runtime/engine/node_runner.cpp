#include "runtime/engine/node_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "actors/core/kind_registry.hpp"
#include "messages/field_reader.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/engine/failpoints.hpp"

namespace shoal {
namespace {

std::vector<port_spec> ports_of(const plan& g, const plan_node& n) {
  std::vector<port_spec> ports;
  if (n.is_stream()) {
    ports.push_back({"in", n.stream->one_per_bucket, n.stream->key});
    return ports;
  }
  const kind_info* kind = find_kind(n.kind);
  for (const auto& in : n.inputs) {
    // An upstream of the same interval emits one value per bucket: its output closes the bucket.
    const bool same = g.nodes[in.upstream].interval_ns == n.interval_ns;
    const bool optional =
        std::count(kind->optional_ports.begin(), kind->optional_ports.end(), in.port) > 0;
    ports.push_back({in.port, same, std::nullopt, optional});
  }
  return ports;
}

std::unique_ptr<window_cache> make_cache(const plan& g, const plan_node& n) {
  return std::make_unique<window_cache>(ports_of(g, n), n.interval_ns, n.period, n.on_missing);
}

}  // namespace

node_runner::node_runner(node_runner_args args, node_outlet& out)
    : args_(std::move(args)), out_(out), spec_(&args_.graph->nodes[args_.index]), key_(spec_->id) {
  keep_names(spec_->names);
  cache_ = make_cache(*args_.graph, *spec_);
  kern_ = find_kind(spec_->kind)
              ->make(spec_->params, kernel_context{spec_->id, spec_->interval_ns, spec_->period});
  for (std::size_t p = 0; p < cache_->port_count(); ++p) {
    input_.ports.push_back(&cache_->ring(p));
    port_interval_.push_back(
        spec_->is_stream() ? 0 : args_.graph->nodes[spec_->inputs[p].upstream].interval_ns);
  }
  out_seq_ = args_.seq_after;
  warming_ = args_.warming;
  try {
    faults_ = kernel_faults_for(names_);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  if (args_.checkpoint) {
    // An unusable checkpoint must not take the node down silently: it starts FAILED with the
    // reason, and an operator can restart it fresh.
    try {
      restore(*args_.checkpoint);
    } catch (const std::exception& e) {
      fail(std::string("checkpoint cannot be restored: ") + e.what());
    }
  }
  report_all();
}

void node_runner::fail(const std::string& reason) {
  if (!failed_) spdlog::error("node {}: FAILED: {}", spec_->name(), reason);
  failed_ = true;
  reason_ = reason;
  args_.board->update(args_.report, [&](node_report& r) {
    r.state = node_state::failed;
    r.reason = reason;
  });
}

void node_runner::emit(std::int64_t bucket, value_ptr v) {
  if (warming_) {
    out_.forward_output(++warm_seq_, bucket, v, 0);
  } else {
    const std::uint64_t seq = ++out_seq_;
    publisher* const pub =
        seq > args_.quiet_through && !given_away(seq) ? args_.pub.get() : nullptr;
    const std::uint64_t after =
        args_.publish_after_commit && args_.writer ? args_.writer->last_journal_seq() : 0;
    if (!pub && !args_.writer) {
      // Only the digest takes the bytes (replay --digest).
      if (args_.digest && args_.digest_in_place) {
        args_.digest->add_written(names_.front(), bucket, [&](std::string& out) {
          encoders_.front().append(out, bucket, seq, v);
        });
      } else if (args_.digest) {
        args_.digest->add(names_.front(), bucket, encoders_.front().encode(bucket, seq, v));
      }
      if (args_.latency) args_.latency->record(latency_stage::encode, received_ns_);
    } else {
      for (std::size_t k = 0; k < names_.size(); ++k) {
        const std::string& name = names_[k];
        if (k > 0 && !pub) break;  // other names are only published
        std::string bytes = encoders_[k].encode(bucket, seq, v);
        // The store keeps one record per NodeID, under its first name; the digest chains those.
        if (k == 0) {
          if (args_.latency) args_.latency->record(latency_stage::encode, received_ns_);
          if (args_.digest) args_.digest->add(name, bucket, bytes);
          // Without a publisher (replay) the store takes the bytes themselves, not a copy.
          if (args_.writer)
            args_.writer->put_output(key_, bucket, pub ? std::string(bytes) : std::move(bytes));
        }
        if (pub) pub->publish(name, std::move(bytes), after, received_ns_);
      }
    }
    // Held until its inputs are committed: ask for that commit now, not at commit_ms.
    if (after && pub) args_.writer->expedite(after);
    out_.forward_output(seq, bucket, v, received_ns_);
    // Reported with the counters at the end of drain(): at most one board lock per message.
    last_value_ = std::move(v);
    last_seq_ = seq;
    last_bucket_ = bucket;
  }
  forwarded_ts_ = std::max(forwarded_ts_, bucket + spec_->interval_ns - 1);
}

void node_runner::late(std::uint32_t port, std::uint64_t seq, std::int64_t ts, const value_ptr& v) {
  // Rebuilding (quiet_through): its subscribers had these from it or the process it took over.
  if (!spec_->late_side || !args_.pub || warming_ || out_seq_ < args_.quiet_through ||
      given_away(out_seq_ + 1))
    return;
  const std::string upstream =
      spec_->is_stream() ? spec_->name() : args_.graph->nodes[spec_->inputs[port].upstream].name();
  auto side = make_value(Value(value_map{
      {"stream", Value(upstream)}, {"seq", Value(seq)}, {"ts", Value(ts)}, {"payload", *v}}));
  Output o{"", spec_->id, bucket_of(ts, spec_->interval_ns), ++late_side_, side};
  for (const auto& name : names_) {
    o.node = name + ".late";
    args_.pub->publish(o.node, encode_output(o));
  }
}

// Fires every bucket the window has ready, then tells subscribers how far we are closed.
void node_runner::drain() {
  while (auto ready = cache_->next_ready()) {
    if (failed_) {
      // Passed, not computed: the window stays current for a restart.
      if (ready->status != fire_status::warming) ++skipped_failed_;
      if (ready->status == fire_status::failed) cache_->clear_failure();
      continue;
    }
    switch (ready->status) {
      case fire_status::fire: {
        input_.bucket = ready->bucket;
        if (args_.latency) args_.latency->record(latency_stage::fire, received_ns_);
        value_ptr v;
        try {
          for (const auto& f : faults_)
            if (f->hit(ready->bucket))
              throw std::runtime_error("failpoint kernel_throw=" + f->name + "@" +
                                       std::to_string(ready->bucket));
          std::optional<std::chrono::steady_clock::time_point> t0;
          if (args_.time_kernels) t0 = std::chrono::steady_clock::now();
          v = kern_->compute_shared(input_);
          if (t0) {
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - *t0).count();
            std::size_t b = 0;
            while (b < compute_bounds_s.size() && secs > compute_bounds_s[b]) ++b;
            ++compute_counts_[b];
            compute_sum_s_ += secs;
          }
        } catch (const std::exception& e) {
          fail(std::string("kernel threw at bucket ") + std::to_string(ready->bucket) + ": " +
               e.what());
          break;
        }
        if (!kern_->take_withheld()) emit(ready->bucket, std::move(v));
        break;
      }
      case fire_status::failed:
        fail(ready->reason);
        cache_->clear_failure();
        break;
      case fire_status::warming:
      case fire_status::skipped:
        break;
    }
  }
  const std::int64_t closed = cache_->closed_through();
  if (closed != INT64_MIN) {
    const std::int64_t ts = closed + spec_->interval_ns - 1;
    if (ts > forwarded_ts_) {
      out_.forward_watermark(ts, received_ns_);
      forwarded_ts_ = ts;
    }
  }
  // resident_bytes() walks the whole window: sample it rather than pay for it on every message.
  const std::uint64_t drain = drains_++;
  if (drain % 64 == 0) window_bytes_ = cache_->resident_bytes();
  if (drain % std::max<std::uint32_t>(args_.report_every, 1) == 0) report_all();
}

void node_runner::report_all() {
  const auto& c = cache_->counters();
  // Notes are a map: copied only when they changed since the last report.
  const bool notes_changed = kern_->notes_version() != notes_reported_ ||
                             skipped_failed_ != skipped_reported_ || late_side_ != late_reported_;
  args_.board->update(args_.report, [&](node_report& r) {
    if (last_value_) {
      std::swap(r.last_value, last_value_);  // the replaced one is freed outside the lock
      r.last_seq = last_seq_;
      r.last_bucket = last_bucket_;
    }
    r.events_in = events_in_;
    r.outputs = out_seq_;
    r.quiet_through = args_.quiet_through;
    r.late_dropped = c.late_dropped;
    r.duplicates = c.duplicates;
    r.missing = c.missing;
    r.window_bytes = window_bytes_;
    r.watermark = forwarded_ts_;
    if (failed_) {
      r.state = node_state::failed;
      r.reason = reason_;
    } else if (r.state != node_state::running && !warming_ &&
               (out_seq_ > args_.seq_after || warm_seq_ > 0)) {
      r.state = node_state::running;
    }
    r.compute_counts = compute_counts_;
    r.compute_sum_s = compute_sum_s_;
    r.mailbox = out_.backlog();
    r.paused = paused_;
    r.held = held_.size();
    r.held_overflow = held_overflow_;
    if (notes_changed) {
      r.notes.clear();
      for (const auto& [why, n] : kern_->notes()) r.notes.emplace(why, n);
      if (skipped_failed_) r.notes["skipped_while_failed"] = skipped_failed_;
      if (late_side_) r.notes["late_to_side_output"] = late_side_;
    }
  });
  last_value_.reset();
  notes_reported_ = kern_->notes_version();
  skipped_reported_ = skipped_failed_;
  late_reported_ = late_side_;
}

// Every input: feed the window, fire what is ready. Anything the window throws (a timestamp
// beyond the representable range) fails the node instead of killing it.
template <class Feed>
void node_runner::handle(std::int64_t received_ns, Feed&& feed) {
  if (paused_) {
    if (held_.size() < max_held) {
      held_.emplace_back([this, received_ns, f = std::function<void()>(feed)] {
        try {
          received_ns_ = received_ns;
          f();
          drain();
        } catch (const std::exception& e) {
          fail(std::string("input rejected by the window: ") + e.what());
        }
      });
    } else {
      ++held_overflow_;
    }
    args_.board->update(args_.report, [&](node_report& r) {
      r.held = held_.size();
      r.held_overflow = held_overflow_;
    });
    return;
  }
  try {
    received_ns_ = received_ns;
    feed();
    drain();
  } catch (const std::exception& e) {
    fail(std::string("input rejected by the window: ") + e.what());
    report_all();  // drain() did not get to it: outputs emitted before the throw still count
  }
}

void node_runner::event(std::uint32_t port, std::uint64_t seq, std::int64_t ts, value_ptr v,
                        std::int64_t received_ns) {
  handle(received_ns, [this, port, seq, ts, v] {
    ++events_in_;
    if (cache_->offer(port, seq, ts, v) == offer_status::late) late(port, seq, ts, v);
  });
}

void node_runner::output(std::uint32_t port, std::uint64_t seq, std::int64_t bucket, value_ptr v,
                         std::int64_t received_ns) {
  handle(received_ns, [this, port, seq, bucket, v] {
    ++events_in_;
    if (cache_->offer(port, seq, bucket, v) == offer_status::late) late(port, seq, bucket, v);
    cache_->watermark(port, bucket + port_interval_[port] - 1);
  });
}

void node_runner::watermark(std::uint32_t port, std::int64_t ts, std::int64_t received_ns) {
  handle(received_ns, [this, port, ts] { cache_->watermark(port, ts); });
}

void node_runner::pause(bool paused) {
  paused_ = paused;
  if (!paused) {
    while (!held_.empty()) {  // catch up in arrival order
      auto next = std::move(held_.front());
      held_.pop_front();
      next();
    }
  }
  report_all();
}

void node_runner::keep_names(std::vector<std::string> names) {
  // Built aside, so a name that cannot be encoded leaves both as they were (emit indexes
  // encoders_ by names_).
  std::vector<output_encoder> encoders;
  encoders.reserve(names.size());
  for (const auto& name : names) {
    encoders.emplace_back(name, spec_->id);
  }
  names_ = std::move(names);
  encoders_ = std::move(encoders);
}

void node_runner::set_names(std::vector<std::string> names) {
  keep_names(std::move(names));
  args_.board->update(args_.report, [&](node_report& r) { r.names = names_; });
}

void node_runner::restart(bool fresh) {
  if (fresh) {
    cache_ = make_cache(*args_.graph, *spec_);
    kern_ = find_kind(spec_->kind)
                ->make(spec_->params, kernel_context{spec_->id, spec_->interval_ns, spec_->period});
    input_.ports.clear();
    for (std::size_t p = 0; p < cache_->port_count(); ++p) input_.ports.push_back(&cache_->ring(p));
    forwarded_ts_ = INT64_MIN;
    notes_reported_ = UINT64_MAX;  // a new kernel's notes version starts again
  }
  cache_->clear_failure();
  failed_ = false;
  reason_.clear();
  spdlog::info("node {}: restarted{}", spec_->name(), fresh ? " fresh (cold window)" : "");
  received_ns_ = 0;  // what fires now was not caused by a received input
  args_.board->update(args_.report, [&](node_report& r) {
    r.state = fresh ? node_state::warming : node_state::running;
    r.reason.clear();
  });
  drain();
}

void node_runner::warm_done(const std::vector<std::uint32_t>& renumbered_ports) {
  warming_ = false;
  for (auto p : renumbered_ports)
    if (p < cache_->port_count()) cache_->forget_seq(p);
  report_all();
}

std::string node_runner::window() const { return to_msgpack(cache_->save()); }

std::string node_runner::checkpoint() const {
  return to_msgpack(Value(value_map{{"window", cache_->save()},
                                    {"kernel", kern_->save_state()},
                                    {"out_seq", Value(out_seq_)},
                                    {"forwarded_ts", Value(forwarded_ts_)},
                                    {"events_in", Value(events_in_)},
                                    {"failed", Value(reason_)},
                                    {"skipped_failed", Value(skipped_failed_)}}));
}

std::uint64_t node_runner::checkpoint_seq(const std::string& bytes) {
  const Value v = from_msgpack(bytes, stored_data_limits());
  return static_cast<std::uint64_t>(
      require_non_negative_int(require_field(require_map(v, "checkpoint"), "out_seq"), "out_seq"));
}

void node_runner::restore(const std::string& bytes) {
  const Value decoded = from_msgpack(bytes, stored_data_limits());
  // Checked field by field: a damaged or foreign checkpoint fails the node with a reason.
  const value_map& m = require_map(decoded, "checkpoint");
  const Value& v = decoded;
  cache_->restore(require_field(m, "window"));
  kern_->restore_state(require_field(m, "kernel"));
  out_seq_ =
      static_cast<std::uint64_t>(require_non_negative_int(require_field(m, "out_seq"), "out_seq"));
  forwarded_ts_ = require_int(require_field(m, "forwarded_ts"), "forwarded_ts");
  events_in_ = static_cast<std::uint64_t>(
      require_non_negative_int(require_field(m, "events_in"), "events_in"));
  if (const Value* s = v.find("skipped_failed"); s && s->is_int())
    skipped_failed_ = static_cast<std::uint64_t>(s->as_int());
  std::string reason;
  if (const Value* f = v.find("failed"); f && f->is_string()) reason = f->as_string();
  if (cache_->failed()) {  // a checkpoint from before failures were kept apart from the window
    if (reason.empty()) reason = cache_->failure();
    cache_->clear_failure();
  }
  if (!reason.empty()) fail(reason);
}

}  // namespace shoal
