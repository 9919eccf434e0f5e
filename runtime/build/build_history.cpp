#include "runtime/build/build_history.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "actors/core/duration.hpp"
#include "actors/core/kind_registry.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/records.hpp"
#include "runtime/engine/node_runner.hpp"
#include "runtime/graph/kinds_meta.hpp"
#include "runtime/graph/node_id.hpp"
#include "runtime/store/journal_prefetch.hpp"
#include "runtime/store/output_digest.hpp"
#include "runtime/window/on_missing.hpp"

namespace shoal {

const char* to_string(segment_status s) {
  switch (s) {
    case segment_status::done:
      return "done";
    case segment_status::reused:
      return "reused";
    case segment_status::run:
      return "run";
    case segment_status::pending:
      return "pending";
    case segment_status::failed:
      return "failed";
    case segment_status::dead:
      return "dead";
    case segment_status::impossible:
      return "impossible";
    case segment_status::blocked:
      return "blocked";
  }
  return "?";
}

namespace {

const std::string empty_digest(64, '0');  // the chain over no outputs

bool built(segment_status s) {
  return s == segment_status::done || s == segment_status::reused || s == segment_status::run ||
         s == segment_status::pending;
}

// What the ledger keeps per (node, segment): the action key, the content digest of the
// outputs (decisions, "Digests": the chain over msgpack [bucket, value]), their count and the
// seq of the last one, and the content digests of the inputs (to say which input changed).
// A dead letter (the kernel threw on every attempt) keeps the action key, the error and the
// attempts instead of a result: a later build does not try that action again unless asked.
struct entry {
  std::int64_t segment_ns = 0;  // entries of another segment length are not this build's
  std::string action, result;
  std::uint64_t outputs = 0, last_seq = 0;
  std::vector<std::string> inputs;
  std::string dead;  // the error of a dead letter, "" for a built segment
  std::uint64_t attempts = 0;
};

std::string encode_entry(const entry& e) {
  value_list inputs;
  for (const auto& i : e.inputs) inputs.emplace_back(i);
  value_map m{{"segment_ns", Value(e.segment_ns)}, {"action", Value(e.action)},
              {"result", Value(e.result)},         {"outputs", Value(e.outputs)},
              {"last_seq", Value(e.last_seq)},     {"inputs", Value(std::move(inputs))}};
  if (!e.dead.empty()) {
    m.emplace("dead", Value(e.dead));
    m.emplace("attempts", Value(e.attempts));
  }
  return to_msgpack(Value(std::move(m)));
}

entry decode_entry(std::string_view bytes) {
  const Value v = from_msgpack(bytes, stored_data_limits());
  entry e;
  auto text = [&](const char* k) {
    const Value* f = v.find(k);
    return f && f->is_string() ? f->as_string() : std::string();
  };
  auto count = [&](const char* k) {
    const Value* f = v.find(k);
    return f && f->is_int() ? static_cast<std::uint64_t>(f->as_int()) : 0;
  };
  if (const Value* f = v.find("segment_ns"); f && f->is_int()) e.segment_ns = f->as_int();
  e.action = text("action");
  e.result = text("result");
  e.outputs = count("outputs");
  e.last_seq = count("last_seq");
  e.dead = text("dead");
  e.attempts = count("attempts");
  if (const Value* in = v.find("inputs"); in && in->is_list())
    for (const auto& i : in->as_list())
      if (i.is_string()) e.inputs.push_back(i.as_string());
  return e;
}

// One segment's outputs as they are chained.
struct chain {
  digest_chain c{""};
  std::uint64_t outputs = 0, last_seq = 0;
  void add(std::int64_t bucket, std::uint64_t seq, const Value& v) {
    c.add("", bucket, to_msgpack(Value(value_list{Value(bucket), v})));
    ++outputs;
    last_seq = seq;
  }
  std::string digest() const { return outputs ? c.result().digest : empty_digest; }
};

// The node's own definition (not its upstreams' ids) and the behaviour id of its kind's code
// (kinds_meta.hpp): what the action key starts from.
std::string definition_hash(const plan_node& n, const std::string& behaviour) {
  if (n.is_stream()) return sha256_hex("stream " + n.id);
  // The NodeID's own fields (node_id.hpp), with the upstreams' ids left out.
  node_identity id{n.kind,
                   n.kind_version,
                   n.params,
                   n.interval_ns,
                   static_cast<std::int64_t>(n.period),
                   n.on_missing,
                   {}};
  for (const auto& in : n.inputs) id.inputs.emplace_back(in.port, "");
  Value v = identity_value(id);
  v.as_map().insert_or_assign("behaviour", Value(behaviour));
  return sha256_hex(to_msgpack(v));
}

// Build mode's quality circuit breaker: what is wrong with one segment's outputs ("" when
// nothing). Nil outputs above max_null_pct (default 50); every output empty (a list, vector or
// map without elements); a flatline: a floating-point field (maps walked by key, vectors by
// index) equal in every one of at least 10 outputs. Integers are counts and ids, expected to
// stay put; a kind whose fields may hold still for long (kind_info::steady_outputs) is not
// checked for flatlines unless its node asks (allow_flatline = false).
template <class Outputs>
std::string quality_problem(const plan_node& n, const Outputs& outs) {
  if (outs.empty()) return "";
  const quality_policy& q = n.quality;
  std::size_t nil = 0, empty = 0;
  for (const auto& o : outs) {
    const Value& v = *o.v;
    if (v.is_nil()) ++nil;
    if ((v.is_list() && v.as_list().empty()) || (v.is_map() && v.as_map().empty()) ||
        (v.is_f64_vector() && v.as_f64_vector().empty()))
      ++empty;
  }
  const double max_nil = q.max_null_pct.value_or(50);
  char line[160];
  if (100.0 * static_cast<double>(nil) / static_cast<double>(outs.size()) > max_nil) {
    std::snprintf(line, sizeof line, "%zu of %zu outputs are nil (max_null_pct = %g)", nil,
                  outs.size(), max_nil);
    return line;
  }
  if (empty == outs.size() && !q.allow_empty.value_or(false))
    return "every output is empty (allow_empty = true to accept it)";
  const kind_info* kind = find_kind(n.kind);
  const bool check_flat = !q.allow_flatline.value_or(kind && kind->steady_outputs);
  if (!check_flat || outs.size() < 10) return "";
  // The fields of the first output, then those every later output repeats exactly.
  std::map<std::string, double> flat;
  auto walk = [&](auto& self, const Value& v, const std::string& path) -> void {
    if (v.is_double()) {
      flat.emplace(path, v.as_double());
    } else if (v.is_f64_vector()) {
      const auto& x = v.as_f64_vector();
      for (std::size_t i = 0; i < x.size(); ++i)
        flat.emplace(path + "[" + std::to_string(i) + "]", x[i]);
    } else if (v.is_map()) {
      for (const auto& [key, child] : v.as_map())
        self(self, child, path.empty() ? key : path + "." + key);
    }
  };
  walk(walk, *outs.front().v, "");
  for (std::size_t i = 1; i < outs.size() && !flat.empty(); ++i) {
    std::map<std::string, double> now;
    std::swap(now, flat);
    walk(walk, *outs[i].v, "");
    std::map<std::string, double> same;
    for (const auto& [path, x] : flat)
      if (auto it = now.find(path);
          it != now.end() && (it->second == x || (x != x && it->second != it->second)))
        same.emplace(path, x);
    flat = std::move(same);
  }
  if (flat.empty()) return "";
  std::snprintf(
      line, sizeof line,
      "field %s is %g in all %zu outputs (a flatline; allow_flatline = true to accept it)",
      flat.begin()->first.c_str(), flat.begin()->second, outs.size());
  return line;
}

struct seg {
  segment_status status = segment_status::blocked;
  std::string why;
  entry e;                // action, result, inputs (known unless pending/not built)
  std::string from_id;    // reused: the NodeID whose outputs are copied
  bool ledgered = false;  // the ledger already holds e under this node's id
};

class builder {
 public:
  // Ledger keys are absolute segment indexes (segment k covers [k·S, (k+1)·S)).
  builder(const store& db, store_writer* w, const build_options& o) : db_(db), w_(w), o_(o) {
    db_.for_each_ledger([&](std::string_view id, std::int64_t k, std::string_view bytes) {
      entry e = decode_entry(bytes);
      if (e.segment_ns != o_.segment_ns) return;
      ledgered_ids_.insert(std::string(id));
      if (!e.dead.empty()) {
        dead_[{std::string(id), k}] = std::move(e);
        return;
      }
      by_action_.emplace(e.action, std::pair{std::string(id), k});
      ledger_[{std::string(id), k}] = std::move(e);
    });
    for (auto& id : db_.output_ids()) stored_ids_.insert(std::move(id));
    for (const auto& [id, bytes] : db_.all_state()) state_.emplace(id, bytes);
    retired_state_ = db_.retired_states();
    // Strategies changed at runtime leave nodes whose stored outputs start or stop mid-history:
    // then nothing stored is taken as built without a ledger entry.
    controls_ = db_.journal_has_controls();
    recorded_kinds_ = read_kinds_meta(db_.get_meta("kinds"));
  }

  // The behaviour id (kinds_meta.hpp) of a kind's results: as recorded (the recorded graph's
  // pass), as settle_behaviour() decided (the target's).
  std::string behaviour_of(const std::string& kind, bool recorded_pass) const {
    if (!recorded_pass)
      if (auto it = behaviour_.find(kind); it != behaviour_.end()) return it->second;
    if (auto it = recorded_kinds_.find(kind); it != recorded_kinds_.end())
      return it->second.behaviour;
    const kind_info* k = find_kind(kind);
    return k ? k->code_hash : "";
  }

  // Before the target's pass: each kind's behaviour id. A kind whose code hash differs from the
  // recorded one at the same kind_version is probed: its recorded nodes compute their first
  // segment with outputs again from their stored inputs; the same outputs keep the recorded
  // behaviour id (the change was cosmetic, the results stay valid), different ones take the new
  // code hash (the results are stale: every action of the kind changes key and runs).
  void settle_behaviour(const plan& target, const std::shared_ptr<const plan>& recorded) {
    for (const auto& n : target.nodes) {
      if (n.is_stream() || behaviour_.count(n.kind)) continue;
      const kind_info* k = find_kind(n.kind);
      const std::string code = k ? k->code_hash : "";
      auto r = recorded_kinds_.find(n.kind);
      if (r == recorded_kinds_.end() || r->second.version != n.kind_version) {
        behaviour_[n.kind] = code;  // new to the dir, or a new version: a new definition anyway
        continue;
      }
      if (r->second.code_hash == code || code.empty()) {
        behaviour_[n.kind] = r->second.behaviour;
        continue;
      }
      std::string probed;
      bool same = true;
      for (std::size_t i = 0; i < recorded->nodes.size() && same; ++i)
        if (recorded->nodes[i].kind == n.kind)
          if (auto equal = same_first_segment(recorded, i)) {
            probed = recorded->nodes[i].name();
            same = *equal;
          }
      const std::string change = "kind " + n.kind + ": code " + r->second.code_hash.substr(0, 12) +
                                 " -> " + code.substr(0, 12) + " at the same kind_version " +
                                 std::to_string(n.kind_version) + ": ";
      if (probed.empty()) {
        behaviour_[n.kind] = code;
        notes_.push_back(change + "no stored node of it to probe: its nodes run again");
      } else if (same) {
        behaviour_[n.kind] = r->second.behaviour;
        notes_.push_back(change + "behaviour unchanged (" + probed +
                         " computes the outputs of its first segment with any again byte for "
                         "byte): results kept");
      } else {
        behaviour_[n.kind] = code;
        notes_.push_back(
            change + "BEHAVIOUR CHANGED (" + probed +
            "'s first segment with outputs comes out different): its results are stale and run "
            "again; the kind's version should have been bumped");
      }
    }
  }
  const std::map<std::string, std::string>& behaviour() const { return behaviour_; }
  const std::vector<std::string>& notes() const { return notes_; }

  // Before evaluating: streams no engine stored are computed from the journal (with compute),
  // then the segments are set from the streams' outputs.
  void prepare(const std::shared_ptr<const plan>& target, bool compute) {
    std::vector<std::size_t> unstored;
    for (std::size_t i = 0; i < target->nodes.size(); ++i)
      if (target->nodes[i].is_stream() && !stored_ids_.count(target->nodes[i].id))
        unstored.push_back(i);
    if (compute && !unstored.empty()) run_streams(target, unstored);
    find_segments(*target);
  }

  // Evaluates every node of g in topological order; with compute, runs and copies what is
  // needed and ledgers the results. recorded_pass: only what the dir already holds is taken
  // (nothing runs), so a graph recorded by an engine gets its ledger.
  std::vector<node_build> evaluate(std::shared_ptr<const plan> g, bool compute,
                                   const plan* recorded) {
    std::vector<node_build> out;
    evaluated_.clear();
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      const plan_node& n = g->nodes[i];
      auto& segs = evaluated_[n.id];
      if (segs.empty()) {
        segs = n.is_stream() ? stream_segments(n) : node_segments(*g, n, recorded);
        const bool any_run = std::any_of(
            segs.begin(), segs.end(), [](const seg& s) { return s.status == segment_status::run; });
        const bool any_reuse = std::any_of(segs.begin(), segs.end(), [](const seg& s) {
          return s.status == segment_status::reused;
        });
        // The recorded graph's pass only ledgers what is stored: nothing of it runs.
        // (A stream that runs was computed from the journal above.)
        if (compute && any_run && recorded && !n.is_stream()) {
          run_node(g, i, segs);
        } else if (compute && any_reuse && recorded) {
          copy_node(n, segs);
        }
        ledger_all(n, segs, compute);
      }
      node_build b;
      b.name = n.name();
      b.id = n.id;
      b.kind = n.is_stream() ? "stream" : n.kind;
      b.outputs_written = written_[n.id];
      for (const auto& s : segs) {
        b.status.push_back(s.status);
        b.why.push_back(s.why);
      }
      out.push_back(std::move(b));
    }
    return out;
  }

  // After a build: outputs of nodes the target graph no longer has move to `retired` (a later
  // build may reuse them), their checkpoints go; the dir then belongs to the target graph.
  void retire(const plan& target) {
    std::set<std::string> keep;
    for (const auto& n : target.nodes) keep.insert(n.id);
    for (const auto& id : stored_ids_) {
      if (keep.count(id)) continue;
      db_.for_each_output_of(id, INT64_MIN, INT64_MAX, [&](std::int64_t b, std::string_view bytes) {
        w_->retire_output(id, b, std::string(bytes));
      });
    }
    // Their checkpoints are kept with the ledger: a later build reusing them needs the state.
    for (const auto& [id, bytes] : state_) {
      if (keep.count(id)) continue;
      w_->put_retired_state(id, bytes);
      w_->erase_state(id);
    }
  }

  std::int64_t first_segment() const { return first_; }
  std::size_t segments() const { return count_; }

 private:
  std::pair<std::string, std::int64_t> lkey(const std::string& id, std::size_t k) const {
    return {id, first_ + static_cast<std::int64_t>(k)};
  }
  const std::string* state_of(const std::string& id) const {
    if (auto it = state_.find(id); it != state_.end()) return &it->second;
    if (auto it = retired_state_.find(id); it != retired_state_.end()) return &it->second;
    return nullptr;
  }
  std::int64_t seg_start(std::size_t k) const {
    return (first_ + static_cast<std::int64_t>(k)) * o_.segment_ns;
  }
  std::int64_t seg_end(std::size_t k) const { return seg_start(k + 1); }  // exclusive
  std::size_t seg_of(std::int64_t bucket) const {
    const std::int64_t s =
        bucket >= 0 ? bucket / o_.segment_ns : -((-bucket + o_.segment_ns - 1) / o_.segment_ns);
    return static_cast<std::size_t>(std::clamp<std::int64_t>(s - first_, 0, count_ - 1));
  }

  // The segments cover the source streams' outputs, first bucket to last; with none stored (a dry
  // run on a journal only), the journal's first and last events.
  void find_segments(const plan& g) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const auto& n : g.nodes)
      if (n.is_stream())
        if (auto r = db_.output_range(n.id)) {
          lo = std::min(lo, r->first);
          hi = std::max(hi, r->second);
        }
    std::uint64_t pos = 0;
    while (lo == INT64_MAX) {
      const auto batch = db_.read_records(&pos, 256);
      if (batch.empty()) break;
      for (const auto& r : batch)
        if (const auto* e = std::get_if<Event>(&r)) {
          lo = e->ts;
          break;
        }
    }
    if (hi == INT64_MIN)
      db_.read_journal_backwards([&](std::uint64_t, std::string_view bytes) {
        if (is_control_record(bytes)) return true;
        const auto r = decode_journal_record(bytes);
        if (const auto* e = std::get_if<Event>(&r)) {
          hi = e->ts;
          return false;
        }
        return true;
      });
    if (lo == INT64_MAX || hi < lo)
      throw build_error(db_.dir() + ": the journal holds no events: there is no history to build");
    auto floor_div = [&](std::int64_t t) {
      return t >= 0 ? t / o_.segment_ns : -((-t + o_.segment_ns - 1) / o_.segment_ns);
    };
    first_ = floor_div(lo);
    journal_mark_ = {"journal through " + std::to_string(db_.journal_last())};
    count_ = static_cast<std::size_t>(floor_div(hi) - first_ + 1);
  }

  static std::string dead_why(const entry& e) {
    return "dead after " + std::to_string(e.attempts) + " attempt" + (e.attempts == 1 ? "" : "s") +
           ": " + e.dead + " (fix it, then shoal build --retry-dead)";
  }

  std::string describe(std::size_t k) const {
    return "segment " + std::to_string(k) + " [" + std::to_string(seg_start(k)) + ", " +
           std::to_string(seg_end(k)) + ")";
  }

  // One node's stored outputs in segment k, chained.
  chain stored_chain(const std::string& id, std::size_t k) const {
    chain c;
    auto add = [&](std::int64_t, std::string_view bytes) {
      const Output o = decode_output(bytes, stored_data_limits());
      c.add(o.bucket, o.seq, *o.value);
    };
    db_.for_each_output_of(id, seg_start(k) - 1, seg_end(k) - 1, add);
    return c;
  }

  // A source stream's segments: what its stored outputs hold. Closed segments are ledgered, so a
  // later build reads only the open one again.
  std::vector<seg> stream_segments(const plan_node& n) {
    std::vector<seg> segs(count_);
    if (!stored_ids_.count(n.id)) {  // a dry run, or the recorded graph's pass
      for (auto& s : segs) {
        s.status = segment_status::run;
        s.why = "not stored: read from the journal";
      }
      return segs;
    }
    for (std::size_t k = 0; k < count_; ++k) {
      seg& s = segs[k];
      const bool open = k + 1 == count_;
      auto it = ledger_.find(lkey(n.id, k));
      // A closed segment's outputs are final; the open one's hold until the journal grows.
      if (it != ledger_.end() && (!open || it->second.inputs == journal_mark_)) {
        s.e = it->second;
        s.ledgered = true;
      } else {
        const chain c = stored_chain(n.id, k);
        s.e.result = c.digest();
        s.e.outputs = c.outputs;
        s.e.last_seq = c.last_seq;
        s.e.action = sha256_hex(n.id + s.e.result);
        if (open) s.e.inputs = journal_mark_;
        s.ledgered = false;  // (again, with the journal mark of an open segment)
      }
      if (s.e.outputs > 0) {
        s.status = streamed_.count(n.id) ? segment_status::run : segment_status::done;
        if (streamed_.count(n.id)) s.why = "not stored: read from the journal";
      } else if (open) {
        s.status = segment_status::blocked;
        s.why = "no " + n.name() + " outputs yet in the open segment";
      } else {
        s.status = segment_status::impossible;
        s.why = "no " + n.name() + " events journaled in " + describe(k);
      }
    }
    return segs;
  }

  // Why a node runs, in words: what differs from the recorded node of the same name.
  std::string run_reason(const plan& g, const plan_node& n, const plan* recorded,
                         const std::vector<std::string>& inputs, std::size_t k) const {
    const plan_node* old = nullptr;
    if (recorded)
      if (auto it = recorded->by_name.find(n.name()); it != recorded->by_name.end())
        old = &recorded->nodes[it->second];
    if (!old || old->kind != n.kind) return "new node";
    std::vector<std::string> changed;
    if (old->kind_version != n.kind_version) changed.push_back("kind_version");
    if (!(old->params == n.params)) {
      std::vector<std::string> keys;
      for (const auto& [key, v] : n.params) {
        auto o = old->params.find(key);
        if (o == old->params.end() || !(o->second == v)) keys.push_back(key);
      }
      for (const auto& [key, v] : old->params)
        if (!n.params.count(key)) keys.push_back(key);
      changed.push_back("params (" + detail::join(keys, ", ") + ")");
    }
    if (old->interval_ns != n.interval_ns) changed.push_back("interval");
    if (old->period != n.period) changed.push_back("period");
    if (old->on_missing != n.on_missing) changed.push_back("on_missing");
    if (!changed.empty()) return detail::join(changed, ", ") + " changed";
    if (behaviour_of(n.kind, false) != behaviour_of(n.kind, true))
      return "behaviour of kind " + n.kind + " changed without a kind_version bump";
    // Same definition: an input's content differs from what the recorded node read.
    auto it = ledger_.find(lkey(old->id, k));
    if (it != ledger_.end() && it->second.inputs.size() == inputs.size())
      for (std::size_t p = 0; p < inputs.size(); ++p)
        if (it->second.inputs[p] != inputs[p])
          return "input " + n.inputs[p].port + " (" + g.nodes[n.inputs[p].upstream].name() +
                 ") changed";
    if (it == ledger_.end() && old->id != n.id) return "upstream definition changed";
    return "state before this segment changed";
  }

  std::vector<seg> node_segments(const plan& g, const plan_node& n, const plan* recorded) {
    const bool recorded_pass = recorded == nullptr;
    std::vector<seg> segs(count_);
    const std::string def = definition_hash(n, behaviour_of(n.kind, recorded_pass));
    // Recorded by an engine and never built: its stored outputs are what this definition makes
    // (the NodeID covers everything upstream), so they are taken as built.
    const bool trust_store =
        recorded_pass && !controls_ && stored_ids_.count(n.id) && !ledgered_ids_.count(n.id);
    for (std::size_t k = 0; k < count_; ++k) {
      seg& s = segs[k];
      const seg* prev = k ? &segs[k - 1] : nullptr;
      std::string blocked_by, impossible_by, pending_by, failed_by;
      std::vector<std::string> inputs;
      for (const auto& in : n.inputs) {
        const plan_node& up = g.nodes[in.upstream];
        const seg& u = evaluated_.at(up.id)[k];
        // An impossible segment names its root cause (the stream without data), however far up.
        if (u.status == segment_status::impossible && impossible_by.empty())
          impossible_by = u.why.rfind("upstream ", 0) == 0 ? u.why.substr(9) : up.name();
        if (u.status == segment_status::blocked && blocked_by.empty()) blocked_by = up.name();
        if ((u.status == segment_status::failed || u.status == segment_status::dead) &&
            failed_by.empty())
          failed_by = up.name() + (u.status == segment_status::dead ? " is dead" : " failed");
        if (u.status == segment_status::pending && pending_by.empty()) pending_by = up.name();
        if (u.status == segment_status::run && u.e.result.empty() && pending_by.empty())
          pending_by = up.name();
        inputs.push_back(u.e.result);
      }
      if (!impossible_by.empty()) {
        s.status = segment_status::impossible;
        s.why = "upstream " + impossible_by;
      } else if (!failed_by.empty()) {
        s.status = segment_status::blocked;
        s.why = "upstream " + failed_by;
      } else if (!blocked_by.empty()) {
        s.status = segment_status::blocked;
        s.why = "upstream " + blocked_by;
      } else if (prev && !built(prev->status)) {
        s.status = segment_status::blocked;
        s.why = "the segment before is not built (continuity)";
      } else if (!pending_by.empty() || (prev && prev->status == segment_status::pending)) {
        s.status = segment_status::pending;
        s.why = pending_by.empty() ? "the segment before may change"
                                   : "runs unless " + pending_by + "'s outputs come out unchanged";
      } else {
        s.e.inputs = inputs;
        std::string key = def + (prev ? prev->e.action : std::string(64, '0'));
        for (const auto& i : inputs) key += i;
        s.e.action = sha256_hex(key);
        auto mine = ledger_.find(lkey(n.id, k));
        auto other = by_action_.find(s.e.action);
        auto dead = dead_.find(lkey(n.id, k));
        const bool dead_same = dead != dead_.end() && dead->second.action == s.e.action;
        const bool mine_same = mine != ledger_.end() && mine->second.action == s.e.action;
        if (mine_same && !stored_ids_.count(n.id) && mine->second.outputs > 0) {
          // Built before, then retired by a build of another graph: back from retired.
          s.status = segment_status::reused;
          s.from_id = n.id;
          s.e.result = mine->second.result;
          s.e.outputs = mine->second.outputs;
          s.why = "built before: back from retired";
        } else if (mine_same) {
          s.status = segment_status::done;
          s.e = mine->second;
          s.ledgered = true;
        } else if (trust_store) {
          const chain c = stored_chain(n.id, k);
          s.status = segment_status::done;
          s.e.result = c.digest();
          s.e.outputs = c.outputs;
          s.e.last_seq = c.last_seq;
        } else if (other != by_action_.end()) {
          s.status = segment_status::reused;
          s.from_id = other->second.first;
          const entry& from = ledger_.at(other->second);
          s.e.result = from.result;
          s.e.outputs = from.outputs;
          s.why = "same inputs and definition as " + s.from_id.substr(0, 12);
        } else if (dead_same && !o_.retry_dead) {
          s.status = segment_status::dead;
          s.e.dead = dead->second.dead;
          s.e.attempts = dead->second.attempts;
          s.why = dead_why(s.e);
          s.ledgered = true;
        } else if (dead_same) {
          s.status = segment_status::run;
          s.why = "dead before (" + dead->second.dead + "): --retry-dead";
        } else {
          s.status = segment_status::run;
          s.why = run_reason(g, n, recorded, inputs, k);
        }
      }
    }
    return segs;
  }

  // Upstream outputs of one segment, in bucket order across ports (ties: port order): one
  // interleaving the actor graph could have delivered, tight enough that no window runs ahead.
  struct input {
    std::int64_t bucket;
    std::uint32_t port;
    std::uint64_t seq;
    value_ptr v;
  };

  void run_node(const std::shared_ptr<const plan>& g, std::size_t index, std::vector<seg>& segs) {
    const plan_node& n = g->nodes[index];
    w_->flush();  // upstream outputs written just before are read now
    struct collect final : node_outlet {
      std::vector<input> out;
      std::int64_t closed = INT64_MIN;
      void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                          std::int64_t) override {
        out.push_back({bucket, 0, seq, v});
      }
      void forward_watermark(std::int64_t ts, std::int64_t) override {
        closed = std::max(closed, ts);
      }
    } sink;
    // A runner from the start, or (a retry) from the checkpoint taken before the segment.
    auto make_runner = [&](std::optional<std::string> checkpoint) {
      node_runner_args a;
      a.graph = g;
      a.index = index;
      a.board = std::make_shared<status_board>();
      a.checkpoint = std::move(checkpoint);
      node_report r;
      r.id = n.id;
      r.kind = n.kind;
      r.names = n.names;
      a.report = a.board->add(std::move(r));
      return std::make_unique<node_runner>(std::move(a), sink);
    };
    auto runner = make_runner(std::nullopt);
    std::vector<chain> chains(count_);
    std::size_t last = 0;  // segments [0, last) are computed
    while (last < count_ && built(segs[last].status)) ++last;
    std::uint64_t written = 0;
    // A segment's outputs wait until the node is past it (an output of its last bucket may
    // come with the next segment's first input), then pass the quality checks or fail it.
    std::vector<std::vector<input>> pending(count_);
    std::size_t stop = last, finalized = 0;  // stop: the first segment not built
    std::string stop_why;
    segment_status stop_status = segment_status::failed;
    std::uint64_t stop_attempts = 0;
    auto take = [&] {
      for (auto& o : sink.out) pending[seg_of(o.bucket)].push_back(std::move(o));
      sink.out.clear();
    };
    auto finalize_before = [&](std::size_t end) {
      for (; finalized < std::min(end, stop); ++finalized) {
        auto& outs = pending[finalized];
        if (std::string problem = quality_problem(n, outs); !problem.empty()) {
          stop = finalized;
          stop_why = "quality: " + problem;
          stop_status = segment_status::failed;  // (even when a later step died first)
          break;
        }
        const node_key key(n.id);
        for (const auto& o : outs) {
          w_->put_output(key, o.bucket, encode_output(n.name(), n.id, o.bucket, o.seq, o.v));
          chains[finalized].add(o.bucket, o.seq, *o.v);
          ++written;
        }
        outs = {};
      }
    };
    // Step k < count_ feeds segment k; step count_ is the end of history.
    std::vector<input> in;
    auto feed = [&](std::size_t k) { feed_step(*runner, *g, n, k, in, take); };
    // Steps 0 .. stop-1, then the end of history when every segment is built (stop changes when
    // a segment fails).
    for (std::size_t k = 0; k < count_ ? k < stop : k == count_ && stop == count_; ++k) {
      // A kernel that throws may have met a transient fault (memory, a failpoint): the step is
      // tried again from the state before it, up to o_.retries times; then the segment is DEAD.
      std::optional<std::string> before;
      std::vector<std::size_t> sizes;
      if (o_.retries > 0) {
        before = runner->checkpoint();
        for (std::size_t j = finalized; j < std::min(k + 1, count_); ++j)
          sizes.push_back(pending[j].size());
      }
      for (std::uint64_t attempt = 1;; ++attempt) {
        feed(k);
        if (!runner->failed()) break;
        const std::string reason = runner->reason();
        if (attempt > static_cast<std::uint64_t>(std::max(o_.retries, 0))) {
          stop = failed_segment(reason, std::min(k, count_ - 1));
          stop_status = segment_status::dead;
          stop_attempts = attempt;
          stop_why = reason;
          break;
        }
        spdlog::warn("build: {}: {}; trying again ({} of {} retries)", n.name(), reason, attempt,
                     o_.retries);
        for (std::size_t j = 0; j < sizes.size(); ++j) pending[finalized + j].resize(sizes[j]);
        runner = make_runner(before);
      }
      if (k < count_) finalize_before(k);
    }
    finalize_before(last);
    written_[n.id] = written;
    for (std::size_t k = 0; k < last; ++k) {
      seg& s = segs[k];
      if (k >= stop) {
        // Not built, nothing of it stored; the segments after it wait for it (continuity).
        // A dead letter only for a segment this build had to run: one built before (done) that
        // a recomputation from the start failed on keeps its entry and is reported failed.
        const bool dead =
            k == stop && stop_status == segment_status::dead && s.status == segment_status::run;
        s.status = k == stop ? (dead ? segment_status::dead : segment_status::failed)
                             : segment_status::blocked;
        s.why = k == stop ? stop_why : "the segment before is not built (continuity)";
        if (dead) {
          s.e.dead = stop_why;
          s.e.attempts = stop_attempts;
          s.e.result.clear();
          s.why = dead_why(s.e);
          s.ledgered = false;  // a dead letter for the ledger
        }
        continue;
      }
      s.e.result = chains[k].digest();
      s.e.outputs = chains[k].outputs;
      s.e.last_seq = chains[k].outputs ? chains[k].last_seq : (k ? segs[k - 1].e.last_seq : 0);
      s.ledgered = false;  // written again: ledger it again
      if (s.status == segment_status::reused) s.status = segment_status::run;
    }
    if (written) stored_ids_.insert(n.id);
    if (stop == count_) {
      state_[n.id] = runner->checkpoint();
      w_->put_state(n.id, state_[n.id]);
      closures_[n.id] = std::max(sink.closed, closure_of_id(n.id, n.interval_ns));
    }
  }

  // Step k < count_ of computing node n: segment k's upstream outputs, in chunks of 256 buckets
  // (the decoded inputs of a chunk stay in cache and in memory the allocator already holds; a
  // whole segment's would be faulted in afresh), `take` after each. Step count_ is the end of
  // history: each input is closed as far as its upstream got. Stops early once r fails (the
  // rest would only pass through a FAILED runner).
  template <class Take>
  void feed_step(node_runner& r, const plan& g, const plan_node& n, std::size_t k,
                 std::vector<input>& in, Take&& take) const {
    if (k == count_) {
      for (std::size_t p = 0; p < n.inputs.size(); ++p) {
        const std::int64_t c = closure(g, n.inputs[p].upstream);
        if (c != INT64_MIN) r.watermark(static_cast<std::uint32_t>(p), c);
      }
      take();
      return;
    }
    const std::int64_t chunk = 256 * n.interval_ns;
    for (std::int64_t lo = seg_start(k); lo < seg_end(k); lo += chunk) {
      const std::int64_t hi = std::min(lo + chunk, seg_end(k));
      in.clear();
      for (std::size_t p = 0; p < n.inputs.size(); ++p) {
        const auto& up = g.nodes[n.inputs[p].upstream];
        db_.for_each_output_of(up.id, lo - 1, hi - 1, [&](std::int64_t, std::string_view bytes) {
          Output o = decode_output(bytes, stored_data_limits());
          in.push_back({o.bucket, static_cast<std::uint32_t>(p), o.seq, std::move(o.value)});
        });
      }
      std::stable_sort(in.begin(), in.end(), [](const input& x, const input& y) {
        return x.bucket != y.bucket ? x.bucket < y.bucket : x.port < y.port;
      });
      for (auto& i : in) r.output(i.port, i.seq, i.bucket, std::move(i.v));
      take();
      if (r.failed()) return;
    }
  }

  // The behavioural check: whether node i of g, computed afresh from its upstreams' stored
  // outputs, makes the outputs stored for it in the first segment it has outputs in (the fixed
  // context: recorded inputs, so the branches the strategy uses are the ones exercised).
  // nullopt when it cannot tell (the node or an upstream has nothing stored).
  std::optional<bool> same_first_segment(const std::shared_ptr<const plan>& g, std::size_t i) {
    const plan_node& n = g->nodes[i];
    const auto range = db_.output_range(n.id);
    if (!stored_ids_.count(n.id) || !range) return std::nullopt;
    const std::size_t probe = seg_of(range->first);
    for (const auto& in : n.inputs)
      if (!stored_ids_.count(g->nodes[in.upstream].id)) return std::nullopt;
    if (w_) w_->flush();  // streams computed by this build are read now
    struct collect final : node_outlet {
      chain c;
      std::int64_t begin = 0, end = 0;
      void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                          std::int64_t) override {
        if (bucket >= begin && bucket < end) c.add(bucket, seq, *v);
      }
      void forward_watermark(std::int64_t, std::int64_t) override {}
    } sink;
    sink.begin = seg_start(probe);
    sink.end = seg_end(probe);
    node_runner_args a;
    a.graph = g;
    a.index = i;
    a.board = std::make_shared<status_board>();
    node_report rep;
    rep.id = n.id;
    rep.names = n.names;
    a.report = a.board->add(std::move(rep));
    node_runner r(std::move(a), sink);
    std::vector<input> in;
    // History through that segment, then what closes its last bucket: the next segment, or the
    // end of history.
    for (std::size_t k = 0; k <= probe + 1 && k <= count_; ++k) feed_step(r, *g, n, k, in, [] {});
    if (r.failed()) return false;
    return sink.c.digest() == stored_chain(n.id, probe).digest();
  }

  // The segment of the bucket a kernel threw at ("kernel threw at bucket B: ..."), no later
  // than `fed` (the segment being fed); `fed` when the reason names no bucket.
  std::size_t failed_segment(const std::string& reason, std::size_t fed) const {
    const auto at = reason.find("at bucket ");
    if (at == std::string::npos) return fed;
    try {
      return std::min(fed, seg_of(std::stoll(reason.substr(at + 10))));
    } catch (const std::exception&) {
      return fed;
    }
  }

  // Source streams from the journal, as a replay feeds them (runtime changes are not part of a
  // build: CONFIG applies to all history).
  void run_streams(const std::shared_ptr<const plan>& g, const std::vector<std::size_t>& which) {
    struct collect final : node_outlet {
      const plan_node* n = nullptr;
      store_writer* w = nullptr;
      std::int64_t closed = INT64_MIN;
      std::uint64_t written = 0;
      void forward_output(std::uint64_t seq, std::int64_t bucket, const value_ptr& v,
                          std::int64_t) override {
        w->put_output(n->id, bucket, encode_output(n->name(), n->id, bucket, seq, v));
        ++written;
      }
      void forward_watermark(std::int64_t ts, std::int64_t) override {
        closed = std::max(closed, ts);
      }
    };
    const auto board = std::make_shared<status_board>();
    std::vector<std::unique_ptr<collect>> sinks;
    std::vector<std::unique_ptr<node_runner>> runners;
    std::map<std::string, node_runner*, std::less<>> by_stream;
    for (const auto i : which) {
      const plan_node& n = g->nodes[i];
      auto sink = std::make_unique<collect>();
      sink->n = &n;
      sink->w = w_;
      node_runner_args a;
      a.graph = g;
      a.index = i;
      a.board = board;
      node_report r;
      r.id = n.id;
      r.names = n.names;
      a.report = board->add(std::move(r));
      runners.push_back(std::make_unique<node_runner>(std::move(a), *sink));
      for (const auto& name : n.names) by_stream[name] = runners.back().get();
      sinks.push_back(std::move(sink));
    }
    journal_prefetch journal(db_, 256, 8);
    for (auto batch = journal.next(); !batch.empty(); batch = journal.next()) {
      for (const auto& rec : batch) {
        if (std::holds_alternative<Control>(rec) || std::holds_alternative<Rejected>(rec)) continue;
        auto it = by_stream.find(stream_of(rec));
        if (it == by_stream.end()) continue;
        if (const auto* e = std::get_if<Event>(&rec))
          it->second->event(0, e->seq, e->ts, e->payload);
        else if (const auto* wm = std::get_if<Watermark>(&rec))
          it->second->watermark(0, wm->ts);
      }
    }
    for (std::size_t j = 0; j < which.size(); ++j) {
      const plan_node& n = g->nodes[which[j]];
      w_->put_state(n.id, runners[j]->checkpoint());
      closures_[n.id] = sinks[j]->closed;
      written_[n.id] = sinks[j]->written;
      streamed_.insert(n.id);
      stored_ids_.insert(n.id);  // (with no outputs: its segments are impossible, not pending)
    }
    w_->flush();
  }

  // Outputs of segments reused from another NodeID: re-encoded with this node's id and name,
  // seqs renumbered after the segment before; the end state is that node's.
  void copy_node(const plan_node& n, std::vector<seg>& segs) {
    w_->flush();  // a source written earlier in this build is read now
    std::uint64_t seq = 0, written = 0;
    const node_key key(n.id);
    for (std::size_t k = 0; k < count_; ++k) {
      seg& s = segs[k];
      if (s.status == segment_status::reused) {
        const bool retired = !stored_ids_.count(s.from_id);
        auto copy = [&](std::int64_t, std::string_view bytes) {
          const Output o = decode_output(bytes, stored_data_limits());
          w_->put_output(key, o.bucket, encode_output(n.name(), n.id, o.bucket, ++seq, o.value));
          ++written;
        };
        if (retired)
          db_.for_each_retired_output_of(s.from_id, seg_start(k) - 1, seg_end(k) - 1, copy);
        else
          db_.for_each_output_of(s.from_id, seg_start(k) - 1, seg_end(k) - 1, copy);
        s.e.last_seq = seq;
      } else if (built(s.status)) {
        seq = s.e.last_seq ? s.e.last_seq : seq;
      }
    }
    written_[n.id] = written;
    if (written) stored_ids_.insert(n.id);
    // Reused through the end: the source node's checkpoint is this node's state.
    const seg& tail = segs.back();
    if (tail.status == segment_status::reused) {
      if (const std::string* st = state_of(tail.from_id)) {
        w_->put_state(n.id, *st);
        state_[n.id] = *st;
      }
      closures_[n.id] = closure_of_id(tail.from_id, n.interval_ns);
    }
  }

  // Known results go into the ledger: in memory always (a dry run's target pass finds the
  // recorded graph's), on disk with persist.
  void ledger_all(const plan_node& n, std::vector<seg>& segs, bool persist) {
    for (std::size_t k = 0; k < count_; ++k) {
      seg& s = segs[k];
      if (s.status == segment_status::dead && !s.ledgered && !s.e.action.empty()) {
        s.e.segment_ns = o_.segment_ns;
        if (persist) w_->put_ledger(n.id, lkey(n.id, k).second, encode_entry(s.e));
        dead_[lkey(n.id, k)] = s.e;
        s.ledgered = true;
        continue;
      }
      const bool has_result = s.status == segment_status::done ||
                              s.status == segment_status::reused || s.status == segment_status::run;
      if (s.ledgered || !has_result || s.e.result.empty() || s.e.action.empty()) continue;
      s.e.segment_ns = o_.segment_ns;
      if (persist) w_->put_ledger(n.id, lkey(n.id, k).second, encode_entry(s.e));
      by_action_.emplace(s.e.action, lkey(n.id, k));
      ledger_[lkey(n.id, k)] = s.e;
      s.ledgered = true;
    }
  }

  // How far a node's outputs are closed at the end of history: its checkpoint says, else its
  // last output's bucket.
  std::int64_t closure_of_id(const std::string& id, std::int64_t interval_ns) const {
    if (auto it = closures_.find(id); it != closures_.end()) return it->second;
    if (const std::string* st = state_of(id)) {
      try {
        const Value v = from_msgpack(*st, stored_data_limits());
        if (const Value* f = v.find("forwarded_ts"); f && f->is_int()) return f->as_int();
      } catch (const std::exception&) {
        // An unreadable checkpoint: fall back to the outputs.
      }
    }
    std::int64_t last = INT64_MIN;
    if (auto r = db_.output_range(id)) {
      last = r->second;
    } else {
      db_.for_each_retired_output_of(id, INT64_MIN, INT64_MAX,
                                     [&](std::int64_t b, std::string_view) { last = b; });
    }
    return last == INT64_MIN ? INT64_MIN : last + interval_ns - 1;
  }
  std::int64_t closure(const plan& g, std::size_t i) const {
    return closure_of_id(g.nodes[i].id, g.nodes[i].interval_ns);
  }

  const store& db_;
  store_writer* w_;
  build_options o_;
  std::int64_t first_ = 0;
  std::size_t count_ = 0;
  std::vector<std::string> journal_mark_;  // a stream's open segment: how far the journal went
  std::map<std::pair<std::string, std::int64_t>, entry> ledger_;
  std::map<std::pair<std::string, std::int64_t>, entry> dead_;  // dead letters
  std::map<std::string, recorded_kind> recorded_kinds_;         // meta kinds
  std::map<std::string, std::string> behaviour_;                // kind -> target's behaviour id
  std::vector<std::string> notes_;
  std::map<std::string, std::pair<std::string, std::int64_t>> by_action_;
  std::set<std::string> ledgered_ids_, stored_ids_;
  std::set<std::string> streamed_;  // streams this build computed from the journal
  std::map<std::string, std::string> retired_state_;
  bool controls_ = false;
  std::map<std::string, std::string> state_;
  std::map<std::string, std::vector<seg>> evaluated_;
  std::map<std::string, std::uint64_t> written_;
  std::map<std::string, std::int64_t> closures_;
};

}  // namespace

bool build_report::complete() const {
  for (const auto& n : nodes)
    for (auto s : n.status)
      if (s == segment_status::impossible || s == segment_status::blocked ||
          s == segment_status::failed || s == segment_status::dead)
        return false;
  return true;
}

nlohmann::json build_report::json() const {
  nlohmann::json j;
  j["segment_ns"] = segment_ns;
  j["first_segment_start"] = first_segment * segment_ns;
  j["segments"] = segments;
  j["dry_run"] = dry_run;
  j["complete"] = complete();
  j["notes"] = notes;
  j["seconds"] = seconds;
  auto& ns = j["nodes"] = nlohmann::json::array();
  auto& dead = j["dead"] = nlohmann::json::array();  // dead letters: what --retry-dead tries
  for (const auto& n : nodes) {
    for (std::size_t k = 0; k < n.status.size(); ++k)
      if (n.status[k] == segment_status::dead)
        dead.push_back({{"node", n.name},
                        {"segment", k},
                        {"start", (first_segment + static_cast<std::int64_t>(k)) * segment_ns},
                        {"why", n.why[k]}});
    nlohmann::json counts = nlohmann::json::object();
    nlohmann::json why = nlohmann::json::object();
    nlohmann::json segs = nlohmann::json::array();
    for (std::size_t k = 0; k < n.status.size(); ++k) {
      const char* s = to_string(n.status[k]);
      counts[s] = counts.value(s, 0) + 1;
      if (!n.why[k].empty()) why[n.why[k]] = why.value(n.why[k], 0) + 1;
      segs.push_back(s);
    }
    ns.push_back({{"name", n.name},
                  {"id", n.id},
                  {"kind", n.kind},
                  {"counts", counts},
                  {"why", why},
                  {"segments", segs},
                  {"outputs_written", n.outputs_written}});
  }
  return j;
}

std::string build_report::text() const {
  std::ostringstream o;
  // Segment starts are whole seconds (a multiple of every interval, in practice of 1 s or more).
  const std::time_t start = static_cast<std::time_t>(first_segment * segment_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&start, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  o << (dry_run ? "build plan (dry run): " : "build: ") << segments << " segments of "
    << format_duration_ns(segment_ns) << " from " << when << " (the last is open)\n";
  for (const auto& note : notes) o << note << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %-15s %5s %6s %5s %7s %6s %4s %10s %7s  %s\n", "node",
                "kind", "done", "reused", "run", "pending", "failed", "dead", "impossible",
                "blocked", "why");
  o << line;
  for (const auto& n : nodes) {
    std::map<segment_status, int> c;
    std::map<std::string, int> why;
    for (std::size_t k = 0; k < n.status.size(); ++k) {
      ++c[n.status[k]];
      if (!n.why[k].empty()) ++why[n.why[k]];
    }
    std::string reasons;
    for (const auto& [w, count] : why)
      reasons += (reasons.empty() ? "" : "; ") + w +
                 (count > 1 ? " (" + std::to_string(count) + " segments)" : "");
    std::snprintf(line, sizeof line, "%-28s %-15s %5d %6d %5d %7d %6d %4d %10d %7d  ",
                  n.name.c_str(), n.kind.c_str(), c[segment_status::done],
                  c[segment_status::reused], c[segment_status::run], c[segment_status::pending],
                  c[segment_status::failed], c[segment_status::dead], c[segment_status::impossible],
                  c[segment_status::blocked]);
    o << line << reasons << "\n";
  }
  // Dead letters, one line each: what a fix and `--retry-dead` are about.
  for (const auto& n : nodes)
    for (std::size_t k = 0; k < n.status.size(); ++k)
      if (n.status[k] == segment_status::dead)
        o << "dead letter: " << n.name << " segment " << k << ": " << n.why[k] << "\n";
  o << (complete() ? "complete" : "incomplete: something is impossible, failed, dead or blocked");
  if (!dry_run) {
    char t[64];
    std::snprintf(t, sizeof t, " in %.2f s", seconds);
    o << t;
  }
  o << "\n";
  return o.str();
}

build_report build_history(const store& db, store_writer* writer, const plan& recorded,
                           std::shared_ptr<const plan> target, const build_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.segment_ns <= 0) throw build_error("--segment must be positive");
  for (const auto& n : target->nodes)
    if (n.interval_ns > 0 && o.segment_ns % n.interval_ns != 0)
      throw build_error("--segment " + std::to_string(o.segment_ns) + " ns is not a multiple of " +
                        n.name() + "'s interval (" + std::to_string(n.interval_ns) +
                        " ns): a bucket would straddle two segments");
  const bool compute = !o.dry_run && writer;
  builder b(db, writer, o);
  b.prepare(target, compute);
  // The recorded graph first: what an engine stored gets its ledger entries, so the target's
  // changed nodes can find them by action key.
  auto rec = std::make_shared<const plan>(recorded);
  b.evaluate(rec, compute, nullptr);  // recorded = null: the recorded pass
  b.settle_behaviour(*target, rec);
  build_report r;
  r.behaviour = b.behaviour();
  r.notes = b.notes();
  r.nodes = b.evaluate(target, compute, &recorded);
  r.segment_ns = o.segment_ns;
  r.first_segment = b.first_segment();
  r.segments = b.segments();
  r.dry_run = !compute;
  if (compute) {
    b.retire(*target);
    writer->flush();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace shoal
