#include "runtime/provenance/explain.hpp"

#include <algorithm>
#include <chrono>

#include "actors/core/kind_registry.hpp"
#include "messages/journal_record.hpp"
#include "messages/json.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/provenance/scratch_dir.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

std::optional<std::int64_t> record_ts(const journal_record& r) {
  if (const auto* e = std::get_if<Event>(&r)) return e->ts;
  if (const auto* w = std::get_if<Watermark>(&r)) return w->ts;
  return std::nullopt;
}

}  // namespace

explainer::explainer(const store& s, const config& cfg, const plan& g) : s_(s), cfg_(cfg), g_(g) {
  if (auto kinds = s.get_meta("kinds")) kinds_ = to_json(from_msgpack(*kinds));
}

nlohmann::json explainer::node_at(std::size_t i, std::int64_t bucket, int depth) {
  const plan_node& n = g_.nodes[i];
  nlohmann::json j{{"node", n.name()},
                   {"id", n.id},
                   {"kind", n.kind},
                   {"kind_version", n.kind_version},
                   {"bucket", bucket}};
  if (kinds_.contains(n.kind)) j["code_hash"] = kinds_[n.kind]["code_hash"];
  bool found = false;
  s_.for_each_output_of(n.id, bucket - 1, bucket, [&](std::int64_t, std::string_view bytes) {
    const Output o = decode_output(bytes, stored_data_limits());
    j["seq"] = o.seq;
    j["value"] = o.value ? to_json(*o.value) : nlohmann::json(nullptr);
    found = true;
  });
  j["stored"] = found;
  if (depth == 0) return j;
  if (n.is_stream()) {
    j["journal"] = journal_events(n, bucket);
    return j;
  }
  // The window: period buckets of this node's interval, ending with this one.
  const std::int64_t from = bucket - static_cast<std::int64_t>(n.period - 1) * n.interval_ns;
  const std::int64_t through = bucket + n.interval_ns - 1;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : n.inputs) {
    const plan_node& up = g_.nodes[in.upstream];
    nlohmann::json outs = nlohmann::json::array();
    std::vector<std::int64_t> buckets;
    s_.for_each_output_of(up.id, from - 1, through,
                          [&](std::int64_t b, std::string_view) { buckets.push_back(b); });
    for (auto b : buckets) outs.push_back(node_at(in.upstream, b, depth < 0 ? -1 : depth - 1));
    inputs.push_back({{"port", in.port}, {"upstream", up.name()}, {"outputs", std::move(outs)}});
  }
  j["inputs"] = std::move(inputs);
  return j;
}

nlohmann::json explainer::journal_events(const plan_node& n, std::int64_t bucket) {
  const std::int64_t margin = this->margin(n);
  const std::uint64_t start = first_at_or_after(bucket - margin);
  nlohmann::json out = nlohmann::json::array();
  bool past = false;
  for (std::uint64_t after = start ? start - 1 : 0; !past;) {
    const std::size_t got = s_.read_journal(after, 256, [&](std::uint64_t seq, std::string_view b) {
      after = seq;
      if (past) return;
      journal_record r;
      try {
        r = decode_journal_record(b);
      } catch (const std::exception&) {
        return;
      }
      const auto ts = record_ts(r);
      if (ts && *ts > bucket + n.interval_ns + margin) past = true;
      const auto* e = std::get_if<Event>(&r);
      if (!e || std::find(n.names.begin(), n.names.end(), e->stream) == n.names.end()) return;
      if (bucket_of(e->ts, n.interval_ns) != bucket) return;
      out.push_back({{"ingest", seq}, {"stream", e->stream}, {"seq", e->seq}, {"ts", e->ts}});
    });
    if (got == 0) break;
  }
  return out;
}

std::int64_t explainer::margin(const plan_node& n) const {
  std::int64_t lateness = 0;
  for (const auto& src : cfg_.sources) lateness = std::max(lateness, src.allowed_lateness_ns);
  return 4 * n.interval_ns + lateness;
}

std::uint64_t explainer::first_at_or_after(std::int64_t ts) {
  std::uint64_t lo = 1, hi = s_.journal_last() + 1;  // answer in [lo, hi]
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    std::optional<std::int64_t> t;
    std::uint64_t at = mid - 1;
    while (!t && at < hi - 1) {
      if (s_.read_journal(at, 1, [&](std::uint64_t seq, std::string_view b) {
            at = seq;
            try {
              t = record_ts(decode_journal_record(b));
            } catch (const std::exception&) {
            }
          }) == 0)
        break;
    }
    if (t && *t < ts) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::optional<std::int64_t> history_ns(const plan& g, std::size_t i) {
  const plan_node& n = g.nodes[i];
  if (n.is_stream()) return 0;
  const kind_info* k = find_kind(n.kind);
  const auto buckets = k ? k->warm_history(n.params, n.interval_ns, n.period) : std::nullopt;
  if (!buckets) return std::nullopt;
  std::int64_t up = 0;
  for (const auto& in : n.inputs) {
    const auto h = history_ns(g, in.upstream);
    if (!h) return std::nullopt;
    up = std::max(up, *h + g.nodes[in.upstream].interval_ns);
  }
  return static_cast<std::int64_t>(*buckets) * n.interval_ns + up;
}

nlohmann::json recompute(const store& s, const config& cfg, const plan& g, std::size_t i,
                         std::int64_t bucket, const std::string& stored_bytes, explainer& e) {
  const plan_node& n = g.nodes[i];
  const auto t0 = std::chrono::steady_clock::now();
  const auto history = history_ns(g, i);
  const std::int64_t margin = e.margin(n);
  const std::uint64_t first = history ? e.first_at_or_after(bucket - *history - margin) : 1;
  const std::uint64_t through =
      std::min(s.journal_last(), e.first_at_or_after(bucket + n.interval_ns + margin));
  const scratch_dir scratch("shoal-explain-replay-");
  nlohmann::json j{{"journal_from", first},
                   {"journal_through", through},
                   {"whole_history", !history.has_value()}};
  std::optional<std::string> again;
  {
    engine_options opt;
    opt.data_dir = scratch.path.string();
    opt.publish = false;
    opt.live = false;
    opt.data_sync = store_sync::on_sync;  // a scratch dir
    opt.inline_nodes = !s.journal_has_controls();
    engine eng(cfg, g, opt);
    eng.start();
    replay_options ro;
    ro.after_seq = first - 1;
    ro.through_seq = through;
    eng.replay(s, ro);
    eng.stop();
  }
  {
    const store out(scratch.path.string(), false);
    out.for_each_output_of(n.id, bucket - 1, bucket,
                           [&](std::int64_t, std::string_view b) { again = std::string(b); });
  }
  const Output stored = decode_output(stored_bytes, stored_data_limits());
  if (again) {
    Output o = decode_output(*again, stored_data_limits());
    o.seq = stored.seq;
    const std::string bytes = encode_output(o);
    j["identical"] = bytes == stored_bytes;
    if (bytes != stored_bytes) j["recomputed_value"] = o.value ? to_json(*o.value) : nullptr;
  } else {
    j["identical"] = false;
    j["recomputed_value"] = "no output at this bucket";
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return j;
}

nlohmann::json explain_output(const store& s, const config& cfg, const plan& g, std::size_t i,
                              std::int64_t bucket, int depth,
                              const std::string& why_not_recompute) {
  explainer e(s, cfg, g);
  nlohmann::json j = e.node_at(i, bucket, depth);
  if (!j["stored"].get<bool>()) return j;
  if (!why_not_recompute.empty()) {
    j["recomputed"] = {{"skipped", why_not_recompute}};
    return j;
  }
  std::string stored;
  s.for_each_output_of(g.nodes[i].id, bucket - 1, bucket,
                       [&](std::int64_t, std::string_view b) { stored = std::string(b); });
  j["recomputed"] = recompute(s, cfg, g, i, bucket, stored, e);
  return j;
}

}  // namespace shoal
