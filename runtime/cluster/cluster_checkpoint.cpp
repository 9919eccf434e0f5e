#include "runtime/cluster/cluster_checkpoint.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "messages/field_reader.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/graph/node_id.hpp"
#include "runtime/store/store.hpp"
#include "runtime/store/store_writer.hpp"

namespace shoal {

namespace {

// A chunk leaves this much of a message for the subject and the headers JetStream adds.
constexpr std::size_t header_room = 4096;
constexpr std::int64_t format_version = 1;

// Where one checkpoint's chunks are, and what they must add up to.
struct slot_entry {
  std::uint64_t journal_pos = 0;
  std::string journal_sha256, slot, sha256, writer;
  std::uint64_t chunks = 0, bytes = 0;
};

// The head names the latest checkpoint and, under "prev", the one before it, whose chunks stay
// in the other slot until the next write: a heir that cannot take the latest (a stop's, past
// what its subscribers were known to have) falls back to it.
struct head : slot_entry {
  std::optional<slot_entry> prev;
};

value_map encode_entry(const slot_entry& h) {
  return value_map{{"journal_pos", Value(h.journal_pos)},
                   {"journal_sha256", Value(h.journal_sha256)},
                   {"slot", Value(h.slot)},
                   {"chunks", Value(h.chunks)},
                   {"bytes", Value(h.bytes)},
                   {"sha256", Value(h.sha256)},
                   {"writer", Value(h.writer)}};
}

std::string encode_head(const head& h) {
  value_map v = encode_entry(h);
  if (h.prev) v.emplace("prev", Value(encode_entry(*h.prev)));
  return to_msgpack(Value(std::move(v)));
}

slot_entry decode_entry(const value_map& v) {
  auto count = [&](std::string_view key) {
    return static_cast<std::uint64_t>(require_non_negative_int(require_field(v, key), key));
  };
  auto text = [&](std::string_view key) { return require_string(require_field(v, key), key); };
  slot_entry h;
  h.journal_pos = count("journal_pos");
  h.journal_sha256 = text("journal_sha256");
  h.slot = text("slot");
  h.chunks = count("chunks");
  h.bytes = count("bytes");
  h.sha256 = text("sha256");
  h.writer = text("writer");
  if (h.slot != "a" && h.slot != "b")
    throw decode_error(error_kind::out_of_range, "slot", "a checkpoint head's slot is a or b");
  // Damaged or foreign numbers must not size a buffer: a checkpoint has at least one chunk, and
  // every chunk at least one byte.
  if (h.chunks == 0 || h.chunks > h.bytes || h.bytes > (std::uint64_t{1} << 40))
    throw decode_error(error_kind::out_of_range, "chunks",
                       "a checkpoint head's chunks and bytes do not fit together");
  return h;
}

head decode_head(const std::string& bytes) {
  const Value decoded = from_msgpack(bytes);
  const value_map& v = require_map(decoded, "head");
  head h;
  static_cast<slot_entry&>(h) = decode_entry(v);
  // A head written before there was "prev" has none: no fallback, as then. Nor has one whose
  // "prev" cannot be read: it is only a fallback, and the latest stands.
  if (const auto p = v.find("prev"); p != v.end()) {
    try {
      h.prev = decode_entry(require_map(p->second, "prev"));
      if (h.prev->slot == h.slot || h.prev->journal_pos >= h.journal_pos) h.prev.reset();
    } catch (const decode_error&) {
      h.prev.reset();
    }
  }
  return h;
}

// Reads the chunks entry `at` names into bytes: "" when they add up to its size and SHA-256,
// else why not.
std::string read_chunks(jetstream_link& link, const std::string& bucket, const std::string& name,
                        std::size_t chunk_bytes, const slot_entry& at, std::string& bytes) {
  bytes.clear();
  bytes.reserve(std::min<std::uint64_t>(at.bytes, at.chunks * chunk_bytes));
  for (std::uint64_t i = 0; i < at.chunks; ++i) {
    const std::string key = name + "." + at.slot + "." + std::to_string(i);
    auto c = link.kv_get(bucket, key);
    if (!c) return "chunk " + key + " is missing";
    bytes += c->value;
  }
  if (bytes.size() != at.bytes || sha256_hex(bytes) != at.sha256)
    return "its " + std::to_string(at.chunks) + " chunks hold " + std::to_string(bytes.size()) +
           " bytes that do not match the head's " + std::to_string(at.bytes) + " bytes and SHA-256";
  return "";
}

}  // namespace

std::optional<std::string> journal_record_sha256(const journal_record_fn& journal,
                                                 std::uint64_t pos) {
  if (pos == 0) return std::string();
  auto bytes = journal ? journal(pos) : std::nullopt;
  if (!bytes) return std::nullopt;
  return sha256_hex(*bytes);
}

std::string encode_cluster_checkpoint(const cluster_checkpoint& cp) {
  value_map state;
  for (const auto& [id, bytes] : cp.state) state.emplace(id, Value(bytes));
  return to_msgpack(Value(value_map{{"v", Value(format_version)},
                                    {"journal_pos", Value(cp.journal_pos)},
                                    {"journal_sha256", Value(cp.journal_sha256)},
                                    {"base_graph_hash", Value(cp.base_graph_hash)},
                                    {"meta", Value(cp.meta)},
                                    {"state", Value(std::move(state))}}));
}

cluster_checkpoint decode_cluster_checkpoint(std::string_view bytes) {
  const Value decoded = from_msgpack(bytes, stored_data_limits());
  const value_map& v = require_map(decoded, "checkpoint");
  if (require_int(require_field(v, "v"), "v") != format_version)
    throw decode_error(error_kind::out_of_range, "v",
                       "a cluster checkpoint of another format version");
  auto text = [&](std::string_view key) { return require_string(require_field(v, key), key); };
  cluster_checkpoint cp;
  cp.journal_pos = static_cast<std::uint64_t>(
      require_non_negative_int(require_field(v, "journal_pos"), "journal_pos"));
  cp.journal_sha256 = text("journal_sha256");
  cp.base_graph_hash = text("base_graph_hash");
  cp.meta = text("meta");
  for (const auto& [id, s] : require_map(require_field(v, "state"), "state"))
    cp.state.emplace(id, require_string(s, "state." + id));
  return cp;
}

std::string checkpoints_bucket(const cluster_decl& c) { return c.stream + "_checkpoints"; }

std::string process_checkpoint_name(const cluster_decl& c, const std::string& instance) {
  return c.engine_id + "." + instance;
}

checkpoint_store::checkpoint_store(jetstream_link& link, const cluster_decl& c,
                                   std::size_t chunk_bytes, std::string name)
    : link_(link),
      bucket_(checkpoints_bucket(c)),
      name_(name.empty() ? c.engine_id : std::move(name)),
      chunk_bytes_(chunk_bytes) {
  head_key_ = name_ + ".head";
  what_ = name_ == c.engine_id
              ? "engine " + c.engine_id
              : "process " + name_.substr(std::min(name_.size(), c.engine_id.size() + 1)) +
                    " of engine " + c.engine_id;
  link_.ensure_kv(bucket_, 0, c.replicas);
  if (chunk_bytes_ == 0) {
    const std::size_t max = link_.max_payload();
    chunk_bytes_ = max > 2 * header_room ? max - header_room : max / 2;
  }
  if (chunk_bytes_ == 0) throw cluster_error("the NATS server states no max_payload");
}

checkpoint_put checkpoint_store::put(const cluster_checkpoint& cp, const std::string& writer,
                                     const journal_record_fn& journal) {
  checkpoint_put r;
  std::optional<head> held;
  std::uint64_t revision = 0;
  auto read_head = [&] {
    held.reset();
    revision = 0;
    if (auto e = link_.kv_get(bucket_, head_key_)) {
      revision = e->revision;
      try {
        held = decode_head(e->value);
      } catch (const decode_error&) {
        // Unreadable (another format, damaged): overwritten, revision-checked as any head.
      }
    }
  };
  read_head();
  if (held && held->journal_pos >= cp.journal_pos) {
    // A later checkpoint stands, unless this journal says it is of another history.
    const auto mine = journal_record_sha256(journal, held->journal_pos);
    if (!mine || *mine == held->journal_sha256) {
      r.held = held->journal_pos;
      return r;
    }
  }
  const std::string bytes = encode_cluster_checkpoint(cp);
  head h;
  h.journal_pos = cp.journal_pos;
  h.journal_sha256 = cp.journal_sha256;
  h.slot = held && held->slot == "a" ? "b" : "a";  // never the chunks the head names now
  // The one it replaces stays readable in its slot until the next write: named as the previous
  // one, unless this journal says it is of another history.
  if (held) {
    const auto mine = journal_record_sha256(journal, held->journal_pos);
    if (!mine || *mine == held->journal_sha256) h.prev = static_cast<const slot_entry&>(*held);
  }
  h.bytes = bytes.size();
  h.sha256 = sha256_hex(bytes);
  h.writer = writer;
  h.chunks = (bytes.size() + chunk_bytes_ - 1) / chunk_bytes_;
  for (std::uint64_t i = 0; i < h.chunks; ++i) {
    const std::size_t from = i * chunk_bytes_;
    link_.kv_put(bucket_, name_ + "." + h.slot + "." + std::to_string(i),
                 bytes.substr(from, std::min(chunk_bytes_, bytes.size() - from)));
  }
  const std::uint64_t was = revision;
  const std::uint64_t rev = was ? link_.kv_update(bucket_, head_key_, encode_head(h), was)
                                : link_.kv_create(bucket_, head_key_, encode_head(h));
  if (rev == 0) {
    // Refused: either another process wrote the head meanwhile (its checkpoint stands), or the
    // cluster refused the write itself (no leader, say) — then it is an error, tried again.
    read_head();
    if (revision == was)
      throw cluster_error("writing the checkpoint head " + bucket_ + "/" + head_key_ +
                          ": refused, and no other write came first");
    r.held = held ? held->journal_pos : 0;
    return r;
  }
  // Chunks a larger checkpoint left in this slot beyond the new count are of no use: removed,
  // so the bucket holds no more than two checkpoints. A failure here costs space, not a restore.
  try {
    // Only while the head is still this one: a later writer may have taken this slot since,
    // with more chunks than these.
    const auto now = link_.kv_get(bucket_, head_key_);
    if (!now || now->revision != rev) throw cluster_error("the head moved on meanwhile");
    const std::string slot_prefix = name_ + "." + h.slot + ".";
    for (const auto& key : link_.kv_keys(bucket_, slot_prefix)) {
      std::uint64_t i = 0;
      const auto digits = std::string_view(key).substr(slot_prefix.size());
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (ec == std::errc() && end == digits.data() + digits.size() && i >= h.chunks &&
          link_.kv_get(bucket_, key))
        link_.kv_delete(bucket_, key);
    }
  } catch (const cluster_error& e) {
    spdlog::debug("cluster: old checkpoint chunks stay in {}: {}", bucket_, e.what());
  }
  r.written = true;
  r.bytes = bytes.size();
  r.chunks = h.chunks;
  return r;
}

std::optional<cluster_checkpoint> checkpoint_store::get() { return read(false).latest; }

process_checkpoints checkpoint_store::get_both() { return read(true); }

process_checkpoints checkpoint_store::read(bool with_previous) {
  process_checkpoints r;
  std::string why;
  head h;
  // A reader overtaken by two writes (the head's slot written again while it read) finds the
  // chunks do not add up: it reads the new head and tries again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto e = link_.kv_get(bucket_, head_key_);
    if (!e) return r;
    try {
      h = decode_head(e->value);
    } catch (const decode_error& err) {
      throw cluster_error("the checkpoint head " + bucket_ + "/" + head_key_ +
                          " cannot be read: " + err.what());
    }
    std::string bytes;
    why = read_chunks(link_, bucket_, name_, chunk_bytes_, h, bytes);
    if (why.empty()) {
      try {
        r.latest = decode_cluster_checkpoint(bytes);
      } catch (const decode_error& err) {
        why = std::string("it cannot be read: ") + err.what();
      }
      break;
    }
    const auto again = link_.kv_get(bucket_, head_key_);
    if (again && again->revision == e->revision) break;  // not a write meanwhile: damaged
  }
  if (!r.latest) {
    const std::string damaged = "the checkpoint of " + what_ + " in " + bucket_ +
                                " (journal record " + std::to_string(h.journal_pos) +
                                ") is damaged: " + why;
    // Without the one before it to fall back to, nothing of this process's can be read.
    if (!with_previous || !h.prev) throw cluster_error(damaged);
    r.latest_why_not = damaged;
  }
  // The one before it, named by the same head: its slot is the next write's, so a write
  // meanwhile leaves it not adding up (no fallback then, the latest stands). A damaged latest
  // does not hide it: it lies in the other slot.
  if (with_previous && h.prev) {
    const std::string what = "the checkpoint before the last one of " + what_ + " in " + bucket_ +
                             " (journal record " + std::to_string(h.prev->journal_pos) + ")";
    std::string bytes;
    if (auto w = read_chunks(link_, bucket_, name_, chunk_bytes_, *h.prev, bytes); !w.empty()) {
      r.previous_why_not = what + " is damaged or being overwritten: " + w;
    } else {
      try {
        r.previous = decode_cluster_checkpoint(bytes);
      } catch (const decode_error& err) {
        r.previous_why_not = what + " cannot be read: " + err.what();
      }
    }
  }
  if (!r.latest && !r.previous) throw cluster_error(r.latest_why_not + "; " + r.previous_why_not);
  return r;
}

chosen_checkpoint choose_checkpoint(
    process_checkpoints cps, const std::function<std::string(const cluster_checkpoint&)>& unfit) {
  chosen_checkpoint c;
  if (!cps.latest && !cps.previous && cps.latest_why_not.empty()) {
    c.why_not = "it put no checkpoint in the cluster";
    c.none_held = true;
    return c;
  }
  if (cps.latest) {
    c.latest_why_not = unfit(*cps.latest);
    if (c.latest_why_not.empty()) {
      c.checkpoint = std::move(cps.latest);
      return c;
    }
  } else {
    c.latest_why_not = cps.latest_why_not;
  }
  if (!cps.previous) {
    c.why_not = cps.previous_why_not.empty() ? c.latest_why_not
                                             : c.latest_why_not + "; " + cps.previous_why_not;
    return c;
  }
  if (std::string before = unfit(*cps.previous); !before.empty()) {
    c.why_not = c.latest_why_not + " (the one before it: " + before + ")";
    return c;
  }
  c.checkpoint = std::move(cps.previous);
  c.previous = true;
  return c;
}

checkpoint_fit fit_checkpoint(const cluster_checkpoint& cp, const std::string& base_graph_hash,
                              const journal_record_fn& journal, std::uint64_t journal_last) {
  checkpoint_fit f;
  if (cp.base_graph_hash != base_graph_hash) {
    f.why_not = "was made with another config (graph " + cp.base_graph_hash.substr(0, 12) +
                ", this one's " + base_graph_hash.substr(0, 12) + ")";
    return f;
  }
  const std::string at = std::to_string(cp.journal_pos);
  if (cp.journal_pos > journal_last) {
    f.why_not = "is at journal record " + at + ", past the journal's " +
                std::to_string(journal_last) + " records";
    return f;
  }
  const auto mine = journal_record_sha256(journal, cp.journal_pos);
  if (!mine || *mine != cp.journal_sha256) {
    f.why_not = "belongs to another journal: its record " + at + " differs from this dir's";
    return f;
  }
  try {
    f.meta = from_msgpack(cp.meta, stored_data_limits());
    const Value* pos = f.meta.find("journal_pos");
    if (!pos || !pos->is_int() || static_cast<std::uint64_t>(pos->as_int()) != cp.journal_pos)
      f.why_not = "names another journal position in its meta";
  } catch (const decode_error& e) {
    f.why_not = std::string("has a meta that cannot be read: ") + e.what();
  }
  return f;
}

checkpoint_restore restore_cluster_checkpoint(const cluster_decl& c,
                                              const std::string& base_graph_hash, const store& db,
                                              store_writer& w) {
  checkpoint_restore r;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string subject = "the cluster's checkpoint of engine " + c.engine_id + " ";
  // A checkpoint cannot serve when it fits another config or journal, or is a placed process's
  // share of the nodes (of another engine id's process, named as the engine's by mistake).
  auto unfit = [&](const cluster_checkpoint& cp) -> std::string {
    const checkpoint_fit fit = fit_checkpoint(
        cp, base_graph_hash, [&](std::uint64_t seq) { return db.journal_bytes(seq); },
        db.journal_last());
    if (!fit.why_not.empty()) return subject + fit.why_not;
    if (fit.meta.find("computed")) return subject + "is a placed process's share of the nodes";
    return "";
  };
  chosen_checkpoint chosen;
  std::string bucket;
  try {
    jetstream_link link(c, "shoal restore " + c.engine_id);
    checkpoint_store cs(link, c);
    bucket = cs.bucket();
    chosen = choose_checkpoint(cs.get_both(), unfit);
  } catch (const std::exception& e) {  // a checkpoint only shortens the start: never fails it
    r.why_not = e.what();
    return r;
  }
  if (!chosen.checkpoint) {
    r.why_not = chosen.none_held ? "the cluster holds no checkpoint of engine " + c.engine_id +
                                       " (" + bucket + ")"
                                 : chosen.why_not;
    return r;
  }
  std::optional<cluster_checkpoint>& cp = chosen.checkpoint;
  r.journal_pos = cp->journal_pos;
  if (chosen.previous) {
    r.previous = true;
    r.latest_why_not = chosen.latest_why_not;
  }
  store_writer::group g;
  for (auto& [id, bytes] : cp->state) {
    r.bytes += bytes.size();
    g.put_state(id, std::move(bytes));
  }
  r.nodes = cp->state.size();
  g.put_meta("checkpoint", std::move(cp->meta));
  w.put_group(std::move(g));
  w.flush();
  r.restored = true;
  r.ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  return r;
}

process_checkpoints read_process_checkpoints(const cluster_decl& c, const std::string& instance) {
  jetstream_link link(c, "shoal restore " + c.engine_id);
  checkpoint_store cs(link, c, 0, process_checkpoint_name(c, instance));
  return cs.get_both();
}

std::vector<std::string> checkpointed_processes(jetstream_link& link, const cluster_decl& c) {
  const std::string bucket = checkpoints_bucket(c);
  const std::string prefix = c.engine_id + ".";
  constexpr std::string_view head_suffix = ".head";
  std::vector<std::string> out;
  std::vector<std::string> keys;
  try {
    keys = link.kv_keys(bucket, prefix);
  } catch (const cluster_missing&) {
    return out;  // no checkpoint was ever put there
  }
  for (const auto& key : keys) {
    // "<engine_id>.<instance>.head"; the engine's own head is "<engine_id>.head", its chunks
    // "<engine_id>.<slot>.<i>", and an instance holds no '.'.
    const std::string_view rest = std::string_view(key).substr(prefix.size());
    if (rest.size() <= head_suffix.size() ||
        rest.substr(rest.size() - head_suffix.size()) != head_suffix)
      continue;
    const std::string_view instance = rest.substr(0, rest.size() - head_suffix.size());
    if (instance.find('.') != std::string_view::npos) continue;
    if (link.kv_get(bucket, key)) out.emplace_back(instance);
  }
  return out;
}

void remove_process_checkpoint(jetstream_link& link, const cluster_decl& c,
                               const std::string& instance) {
  const std::string bucket = checkpoints_bucket(c);
  const std::string name = process_checkpoint_name(c, instance);
  const std::string head = name + ".head";
  for (const auto& key : link.kv_keys(bucket, name + "."))
    if (key != head) link.kv_erase(bucket, key);
  link.kv_erase(bucket, head);
}

checkpoint_uploader::checkpoint_uploader(const cluster_decl& c, std::string writer,
                                         std::function<std::uint64_t()> replicated,
                                         journal_record_fn journal, std::string name)
    : writer_(std::move(writer)), replicated_(std::move(replicated)), journal_(std::move(journal)) {
  link_ = std::make_unique<jetstream_link>(c, "shoal checkpoints " + c.engine_id);
  store_ = std::make_unique<checkpoint_store>(*link_, c, 0, std::move(name));
  thread_ = std::thread([this] { run(); });
}

checkpoint_uploader::~checkpoint_uploader() { stop(); }

void checkpoint_uploader::offer(cluster_checkpoint cp) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    offered_through_ = std::max(offered_through_, cp.journal_pos);
    // The waiting one keeps its place (the class comment says why); the newer one waits behind
    // it, in the place of any that waited there (overtaken before it went).
    if (!waiting_) {
      waiting_ = std::move(cp);
    } else {
      if (next_) ++st_.skipped;
      next_ = std::move(cp);
    }
  }
  cv_.notify_all();
}

bool checkpoint_uploader::finish(std::chrono::milliseconds wait) {
  bool went = false;
  {
    std::unique_lock lock(mu_);
    finishing_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, wait, [&] { return stopping_ || (!waiting_ && !busy_); });
    went = settled_through_ >= offered_through_;
  }
  stop();
  return went;
}

void checkpoint_uploader::stop() {
  std::lock_guard stopping(stop_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiting_.reset();
    next_.reset();
  }
  cv_.notify_all();
  if (link_) link_->close();  // a write in progress fails at once
  if (thread_.joinable()) thread_.join();
}

checkpoint_uploader::stats checkpoint_uploader::snapshot() const {
  std::lock_guard lock(mu_);
  return st_;
}

void checkpoint_uploader::run() {
  constexpr auto min_gap = std::chrono::seconds(1);
  auto last = std::chrono::steady_clock::now() - min_gap;
  std::unique_lock lock(mu_);
  for (;;) {
    // Waits for a checkpoint, a second since the last write, and the journal through its
    // position in the cluster (polled: the replicator acknowledges in batches).
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) return;
    if (!waiting_ || (!finishing_ && std::chrono::steady_clock::now() - last < min_gap)) continue;
    const std::uint64_t replicated = replicated_();
    // The newer one covers all the waiting one does, and the once-a-second budget goes to it.
    if (next_ && next_->journal_pos <= replicated) {
      ++st_.skipped;
      waiting_ = std::move(next_);
      next_.reset();
    }
    if (replicated < waiting_->journal_pos) continue;
    cluster_checkpoint cp = std::move(*waiting_);
    waiting_ = std::move(next_);
    next_.reset();
    busy_ = true;
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    std::string error;
    checkpoint_put r;
    try {
      // The record it names is committed (it is in the cluster), so the dir has it.
      const auto sha = journal_record_sha256(journal_, cp.journal_pos);
      if (!sha)
        throw cluster_error("journal record " + std::to_string(cp.journal_pos) +
                            " is not in the data dir");
      cp.journal_sha256 = *sha;
      r = store_->put(cp, writer_, journal_);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    last = std::chrono::steady_clock::now();
    lock.lock();
    busy_ = false;
    // Not written where another process wrote an older one meanwhile: a host taking over starts
    // from that one.
    if (error.empty() && (r.written || r.held >= cp.journal_pos))
      settled_through_ = std::max(settled_through_, cp.journal_pos);
    cv_.notify_all();  // finish() may wait for it
    if (stopping_) return;
    if (!error.empty()) {
      if (st_.failures++ == 0 || st_.failures % 20 == 0)
        spdlog::warn(
            "cluster: the checkpoint at journal record {} did not go to the cluster: {} (failures "
            "so far: {}); it is tried again in a second, unless a newer one comes",
            cp.journal_pos, error, st_.failures);
      st_.last_error = error;
      // Tried again unless a newer one came meanwhile.
      if (!waiting_) waiting_ = std::move(cp);
      continue;
    }
    if (!r.written) {  // the cluster holds one as new, or another process's since
      ++st_.skipped;
      continue;
    }
    ++st_.uploads;
    st_.journal_pos = cp.journal_pos;
    st_.bytes = r.bytes;
    st_.chunks = r.chunks;
    st_.last_ms = ms;
  }
}

}  // namespace shoal
