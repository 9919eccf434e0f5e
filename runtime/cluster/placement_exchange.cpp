#include "runtime/cluster/placement_exchange.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>
#include <utility>

#include "runtime/cluster/cluster_members.hpp"
#include "runtime/cluster/jetstream_link.hpp"

namespace shoal {

namespace {

constexpr auto poll_every = std::chrono::milliseconds(200);

// The last placement of graph_hash in the cluster, if any and readable.
std::optional<placement_record> last_placement(jetstream_link& link, const cluster_decl& c,
                                               const std::string& graph_hash) {
  const auto e = link.kv_get(placement_bucket(c), c.engine_id);
  if (!e) return std::nullopt;
  try {
    placement_record r = decode_placement(e->value);
    if (r.graph_hash == graph_hash) return r;
  } catch (const std::exception& ex) {
    spdlog::warn("cluster: the last placement of engine {} is unreadable ({}): placing anew",
                 c.engine_id, ex.what());
  }
  return std::nullopt;
}

}  // namespace

std::string placement_bucket(const cluster_decl& c) { return c.stream + "_placement"; }

std::vector<placement_node> placement_nodes(const plan& p, const node_costs& measured) {
  double sum = 0;
  std::size_t known = 0;
  for (const auto& n : p.nodes) {
    if (auto it = measured.find(n.id); it != measured.end() && !n.is_stream()) {
      sum += it->second;
      ++known;
    }
  }
  const double unknown = known ? sum / static_cast<double>(known) : 1.0;
  std::vector<placement_node> out;
  for (const auto& n : p.nodes) {
    placement_node pn;
    pn.id = n.id;
    pn.stream = n.is_stream();
    const auto it = measured.find(n.id);
    pn.cost = it != measured.end() ? it->second : unknown;
    for (const auto& in : n.inputs) pn.upstream.push_back(in.upstream);
    out.push_back(std::move(pn));
  }
  return out;
}

placement_channel::placement_channel(const cluster_decl& c)
    : c_(c), link_(std::make_unique<jetstream_link>(c, "shoal placement " + c.engine_id, 2000)) {
  link_->ensure_kv(placement_bucket(c_), 0, c_.replicas);
}

placement_channel::~placement_channel() = default;

std::optional<placement_record> placement_channel::read(const std::string& graph_hash) {
  return last_placement(*link_, c_, graph_hash);
}

placement_record placement_channel::choose(const std::string& self, const std::string& lease,
                                           const plan& p, std::chrono::milliseconds wait,
                                           bool wait_for_standbys,
                                           const std::map<std::string, member_published>& seen) {
  const cluster_decl& c = c_;
  jetstream_link& link = *link_;
  const auto wanted = static_cast<std::size_t>(c.members - 1);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<cluster_member> standbys;  // as the last read that succeeded listed them
  std::map<std::string, member_published> reported;  // what every listed member last said
  node_costs listed_costs;                           // what they measured
  std::optional<placement_record> previous;
  auto placed_before = [&](const std::string& m) {
    return previous && std::find(previous->members.begin(), previous->members.end(), m) !=
                           previous->members.end();
  };
  bool read_once = false;
  for (;;) {
    // A bucket just made may have no leader for a moment, a listing may time out under load:
    // ask again until the wait is over, keeping what the last good read found.
    try {
      if (!previous) previous = last_placement(link, c, p.graph_hash);
      std::vector<cluster_member> found;
      std::map<std::string, member_published> said;
      node_costs costs;
      // Standbys waiting for a placement, and those running their share of the last one (this
      // process restarted): not those that compute every node, nor those away.
      for (auto& m : read_members(link, c)) {
        note_published(said, m.instance, m.published);
        if (m.graph == p.graph_hash)
          for (const auto& [id, cost] : m.costs) costs[id] = cost;
        if ((m.role == placing_role || (m.role == "standby" && placed_before(m.instance))) &&
            m.graph == p.graph_hash && m.instance != self)
          found.push_back(std::move(m));
      }
      standbys = std::move(found);
      reported = std::move(said);
      listed_costs = std::move(costs);
      read_once = true;
    } catch (const cluster_error& e) {
      if (!read_once && std::chrono::steady_clock::now() >= deadline) throw;
      spdlog::debug("cluster: reading the members of engine {}: {}", c.engine_id, e.what());
    }
    if ((read_once && (standbys.size() >= wanted || !wait_for_standbys)) ||
        std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(poll_every);
  }
  if (standbys.size() < wanted)
    spdlog::warn(
        "cluster: after {1} ms, {0} of the {2} standbys that [cluster] members = {3} asks for "
        "wait for a placement of graph {4}: placing the nodes on {5} processes",
        standbys.size(), wait.count(), wanted, c.members, p.graph_hash.substr(0, 12),
        standbys.size() + 1);
  // The members of the last placement first (their dirs computed those nodes), then by name.
  std::stable_partition(standbys.begin(), standbys.end(),
                        [&](const cluster_member& m) { return placed_before(m.instance); });
  standbys.resize(std::min(standbys.size(), wanted));
  placement_record r;
  r.holder = lease;
  r.graph_hash = p.graph_hash;
  // Any of them can take nodes it did not run (those of a member of the last placement that is
  // gone): a process starting rebuilds them from its journal, a running standby restarts to.
  for (const auto& m : standbys) r.members.push_back(m.instance);
  r.members.push_back(self);
  std::sort(r.members.begin(), r.members.end());
  // Placed by what the nodes were measured to cost: as the processes running them say now, else
  // as the last placement recorded.
  if (previous) r.costs = previous->costs;
  for (const auto& [id, cost] : listed_costs) r.costs[id] = cost;
  try {
    r.nodes = place_nodes(placement_nodes(p, r.costs), r.members,
                          previous ? previous->nodes : node_placement{});
  } catch (const std::runtime_error& e) {
    throw cluster_error(std::string("cannot place the nodes of engine ") + c.engine_id + ": " +
                        e.what() + "; start the processes of the last placement again");
  }
  // What a member that is gone or away last said it published (its record, while its key
  // lasts, or as this process read it before) goes with its nodes.
  for (const auto& [member, said] : seen) note_published(reported, member, said);
  if (previous) record_hand_overs(r, *previous, reported);
  return r;
}

void placement_channel::write(const placement_record& r, bool patient) {
  revision_ = link_->kv_put(placement_bucket(c_), c_.engine_id, encode_placement(r), patient);
  unsure_.clear();
}

placement_channel::update_result placement_channel::update(const placement_record& r,
                                                           bool over_unsure) {
  const std::string bucket = placement_bucket(c_), bytes = encode_placement(r);
  auto unsure = [&] {
    if (std::find(unsure_.begin(), unsure_.end(), bytes) == unsure_.end()) unsure_.push_back(bytes);
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::uint64_t rev = 0;
    try {
      rev = link_->kv_update(bucket, c_.engine_id, bytes, revision_);
    } catch (const cluster_not_taken& e) {
      throw placement_refused(e.what());  // not stored: not kept as unsure
    } catch (const cluster_error&) {
      unsure();
      throw;
    }
    if (rev && std::exchange(lose_next_ack_, false)) {
      unsure();
      throw cluster_error("updating the placement of engine " + c_.engine_id +
                          ": no acknowledgement (failpoint placement_ack_lost)");
    }
    if (rev) {
      revision_ = rev;
      unsure_.clear();
      return update_result::written;
    }
    // Written since: by this channel, if it holds an update the cluster did not acknowledge
    // (then it goes on from there), else by another process.
    const auto e = link_->kv_get(bucket, c_.engine_id);
    // Still this channel's last write: the cluster refused the update for another reason (no
    // leader for the bucket during a server's failover): tried again, not taken for a loss.
    if (e && e->revision == revision_)
      throw placement_refused("updating the placement of engine " + c_.engine_id +
                              ": refused, though nobody wrote it since");
    // Its own bytes: this write went through, its answer lost (an error other than a timeout).
    if (e && e->value == bytes) {
      revision_ = e->revision;
      unsure_.clear();
      return update_result::written;
    }
    if (!e || std::find(unsure_.begin(), unsure_.end(), e->value) == unsure_.end())
      return update_result::overwritten;
    // An unsure update of this channel landed after the caller last looked: what it did is to
    // be done before anything placed from the placement before it is written.
    if (!over_unsure) return update_result::unsure_landed;
    revision_ = e->revision;
    unsure_.clear();
  }
  return update_result::overwritten;
}

std::optional<std::size_t> placement_channel::holds_one(
    const std::vector<placement_record>& written) {
  const auto e = link_->kv_get(placement_bucket(c_), c_.engine_id);
  if (!e) return std::nullopt;
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (e->value != encode_placement(written[i])) continue;
    revision_ = e->revision;
    unsure_.clear();
    return i;
  }
  return std::nullopt;
}

std::optional<placement_record> placement_channel::await(const std::string& graph_hash,
                                                         std::chrono::milliseconds wait) {
  const cluster_decl& c = c_;
  jetstream_link& link = *link_;
  const std::string leases = c.stream + "_leases";
  std::optional<std::chrono::steady_clock::time_point> deadline;
  for (;;) {
    try {
      if (const auto holder = link.kv_get(leases, c.engine_id)) {
        if (!deadline) deadline = std::chrono::steady_clock::now() + wait;
        if (auto r = last_placement(link, c, graph_hash); r && r->holder == holder->value) return r;
      }
    } catch (const cluster_error& e) {
      // No engine took the lease yet (its bucket does not exist), or a bucket just made has no
      // leader yet: ask again.
      spdlog::debug("cluster: reading the placement of engine {}: {}", c.engine_id, e.what());
    }
    if (deadline && std::chrono::steady_clock::now() >= *deadline) return std::nullopt;
    std::this_thread::sleep_for(poll_every);
  }
}

}  // namespace shoal
