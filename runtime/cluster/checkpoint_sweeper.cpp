#include "runtime/cluster/checkpoint_sweeper.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "runtime/cluster/cluster_checkpoint.hpp"
#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/node_placement.hpp"
#include "runtime/cluster/placement_exchange.hpp"

namespace shoal {

namespace {

// The processes whose checkpoints stay:
//  - every member key with a value (a record that does not parse names its process all the same);
//  - every member of the placement;
//  - every process a node was handed from (`handed_from`) until the process it went to says it
//    published it: its heir reads that checkpoint as it restarts, however long that takes.
// A placement that cannot be read stops the sweep: a process it names may be one whose nodes are
// about to move.
std::set<std::string> kept_processes(jetstream_link& link, const cluster_decl& c) {
  std::optional<jetstream_link::kv_entry> placed;
  try {
    placed = link.kv_get(placement_bucket(c), c.engine_id);
  } catch (const cluster_missing&) {
  }
  placement_record r;
  if (placed) {
    try {
      r = decode_placement(placed->value);
    } catch (const std::exception& e) {
      throw cluster_error("the placement of engine " + c.engine_id +
                          " cannot be read: " + e.what());
    }
  }
  std::set<std::string> keep(r.members.begin(), r.members.end());
  // One pass over the member keys: each names its process, and says what it published.
  const std::string prefix = c.engine_id + ".";
  std::vector<std::string> keys;
  try {
    keys = link.kv_keys(members_bucket(c), prefix);
  } catch (const cluster_missing&) {
  }
  std::map<std::string, std::map<std::string, std::uint64_t>> published;
  for (const auto& key : keys) {
    const auto e = link.kv_get(members_bucket(c), key);
    if (!e) continue;
    const std::string instance = key.substr(prefix.size());
    keep.insert(instance);
    if (auto m = decode_member(e->value)) published[instance] = std::move(m->published);
  }
  for (const auto& [id, from] : r.handed_from) {
    const auto owner = r.nodes.find(id);
    if (owner == r.nodes.end()) continue;
    const auto said = published.find(owner->second);
    if (said == published.end() || !said->second.count(id)) keep.insert(from);
  }
  return keep;
}

}  // namespace

checkpoint_sweeper::checkpoint_sweeper(const cluster_decl& c, std::chrono::milliseconds retention,
                                       std::chrono::milliseconds period, bool start)
    : c_(c), retention_(retention), period_(period) {
  link_ = std::make_unique<jetstream_link>(c, "shoal checkpoint sweep " + c.engine_id);
  if (start) thread_ = std::thread([this] { run(); });
}

checkpoint_sweeper::~checkpoint_sweeper() { stop(); }

void checkpoint_sweeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> checkpoint_sweeper::sweep(std::chrono::steady_clock::time_point now) {
  const std::set<std::string> keep = kept_processes(*link_, c_);
  std::vector<std::string> removed, waiting;
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  for (const auto& instance : checkpointed_processes(*link_, c_)) {
    if (keep.count(instance)) {
      gone_since_.erase(instance);
      continue;
    }
    const auto since = gone_since_.emplace(instance, now).first->second;
    if (now - since < retention_) {
      waiting.push_back(instance);
      continue;
    }
    if (stopping()) break;  // a fenced process removes nothing more
    // Back since the listing above (its dir started again): it keeps them.
    if (link_->kv_get(members_bucket(c_), c_.engine_id + "." + instance)) {
      gone_since_.erase(instance);
      continue;
    }
    remove_process_checkpoint(*link_, c_, instance);
    gone_since_.erase(instance);
    removed.push_back(instance);
    spdlog::info(
        "cluster: removed the checkpoint of process {} of engine {} from the cluster: it has been "
        "neither a member nor placed for {} s",
        instance, c_.engine_id,
        std::chrono::duration_cast<std::chrono::seconds>(now - since).count());
    std::lock_guard lock(mu_);
    st_.removed.push_back(instance);
    if (st_.removed.size() > max_listed) st_.removed.erase(st_.removed.begin());
    ++st_.removed_count;
  }
  std::lock_guard lock(mu_);
  ++st_.sweeps;
  st_.waiting = std::move(waiting);
  return removed;
}

void checkpoint_sweeper::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, period_, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    std::string error;
    try {
      sweep(std::chrono::steady_clock::now());
    } catch (const std::exception& e) {  // the next sweep tries again
      error = e.what();
    }
    lock.lock();
    if (!error.empty()) {
      if (st_.failures++ == 0)
        spdlog::warn("cluster: looking for checkpoints of processes gone for good: {}", error);
      st_.last_error = error;
    }
  }
}

checkpoint_sweeper::stats checkpoint_sweeper::snapshot() const {
  std::lock_guard lock(mu_);
  return st_;
}

}  // namespace shoal
