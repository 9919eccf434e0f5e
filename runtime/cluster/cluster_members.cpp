#include "runtime/cluster/cluster_members.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/node_placement.hpp"

namespace shoal {

namespace {

std::string host_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// What a key may not hold (anything but letters, digits, '-', '_') as '_'.
std::string key_safe(std::string id) {
  for (char& ch : id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
  return id;
}

std::string this_instance() { return key_safe(host_name() + "-" + std::to_string(::getpid())); }

std::string encode(const cluster_member& m) {
  nlohmann::json j{{"instance", m.instance}, {"role", m.role},   {"publish", m.publish},
                   {"snapshot", m.snapshot}, {"graph", m.graph}, {"journal", m.journal},
                   {"lag_ms", m.lag_ms}};
  if (!m.published.empty()) j["published"] = m.published;
  std::string without = j.dump();
  if (m.costs.empty()) return without;
  j["costs"] = m.costs;
  std::string with = j.dump();
  // A heartbeat that does not fit a NATS message would let its key expire: costs go first.
  return with.size() <= max_placement_with_costs_bytes / 2 ? with : without;
}

}  // namespace

std::string members_bucket(const cluster_decl& c) { return c.stream + "_members"; }

std::string new_member_instance() {
  std::random_device rd;  // names a process, never reaches a result
  char tail[9];
  std::snprintf(tail, sizeof tail, "%08x", static_cast<unsigned>(rd()));
  return key_safe(host_name() + "-" + tail);
}

std::string advertised_endpoint(const std::string& bound) {
  const auto scheme = bound.find("://");
  const auto colon = bound.rfind(':');
  if (scheme == std::string::npos || colon == std::string::npos || colon <= scheme + 3)
    return bound;
  const std::string host = bound.substr(scheme + 3, colon - scheme - 3);
  if (host != "*" && host != "0.0.0.0" && host != "[::]" && host != "::") return bound;
  return bound.substr(0, scheme + 3) + host_name() + bound.substr(colon);
}

bool loopback_endpoint(const std::string& endpoint) {
  const auto scheme = endpoint.find("://");
  if (scheme == std::string::npos) return false;
  const std::string rest = endpoint.substr(scheme + 3);
  return rest.rfind("127.", 0) == 0 || rest.rfind("localhost:", 0) == 0 ||
         rest.rfind("[::1]:", 0) == 0;
}

member_heartbeat::member_heartbeat(const cluster_decl& c, cluster_member me)
    : c_(c), me_(std::move(me)) {
  if (me_.instance.empty()) me_.instance = this_instance();
  key_ = c_.engine_id + "." + me_.instance;
  // Short requests: a renewal that cannot be made soon is better tried again, and a stop of
  // the engine waits for the one in progress.
  link_ = std::make_unique<jetstream_link>(c_, "shoal member " + key_, 1000);
  link_->ensure_kv(members_bucket(c_), c_.heartbeat_ttl_ns, c_.replicas);
  write(true);  // processes starting together: the bucket one of them just made may be electing
  keeper_ = std::thread([this] {
    std::unique_lock lock(mu_);
    const auto period = std::chrono::nanoseconds(c_.heartbeat_ttl_ns / 3);
    for (;;) {
      lock.unlock();
      renew();
      lock.lock();
      cv_.wait_for(lock, period, [&] { return stopping_ || dirty_; });
      if (stopping_) return;
      dirty_ = false;
    }
  });
}

// On the keeper's thread: write this member and, every third renewal (about once per
// heartbeat_ttl: a listing costs the servers a consumer), read them all. error_ is the write's:
// a listing that fails keeps the members read before.
void member_heartbeat::renew() {
  std::string why;
  try {
    write();
  } catch (const cluster_error& e) {
    why = e.what();
  }
  std::optional<std::vector<cluster_member>> ms;
  // Placed nodes move when their process's key expires: every process of a placed engine lists
  // at every renewal. The active process sees a death within heartbeat_ttl * 4/3; a standby that
  // takes the lease of a dead active process has read its record of one or two writes before
  // the last (listed_published's promise holds for it too).
  const unsigned list_every = c_.members > 1 ? 1 : 3;
  const auto listing = std::chrono::steady_clock::now();
  if (why.empty() && renewals_++ % list_every == 0) {
    try {
      ms = read_members(*link_, c_);
    } catch (const cluster_error& e) {
      spdlog::debug("cluster: listing the members of engine {}: {}", c_.engine_id, e.what());
    }
  }
  std::lock_guard lock(mu_);
  if (!why.empty() && error_.empty())
    spdlog::warn("cluster: renewing membership {}: {}", key_, why);
  if (ms) note_listing(std::move(*ms), listing);
  error_ = why;
}

void member_heartbeat::note_listing(std::vector<cluster_member> ms,
                                    std::chrono::steady_clock::time_point at) {
  for (const auto& m : ms) {
    auto& seen = published_seen_[m.instance];
    for (const auto& [id, seq] : m.published) seen[id] = std::max(seen[id], seq);
    role_seen_[m.instance] = m.role;
  }
  if (at >= members_read_at_) {
    members_ = std::move(ms);
    members_read_at_ = at;
  }
}

void member_heartbeat::list_now() {
  // A connection of its own: the keeper's belongs to its thread.
  jetstream_link link(c_, "shoal " + c_.engine_id + " members", 2000);
  const auto listing = std::chrono::steady_clock::now();
  auto ms = read_members(link, c_);
  std::lock_guard lock(mu_);
  note_listing(std::move(ms), listing);
}

member_heartbeat::~member_heartbeat() { leave(); }

bool member_heartbeat::leave() {
  {
    std::lock_guard lock(mu_);
    if (left_) return false;
    left_ = stopping_ = true;
  }
  cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  if (keep_) {
    // A full heartbeat_ttl from now for the process to come back before it is taken for gone;
    // meanwhile no start of the active process counts on it.
    try {
      {
        std::lock_guard lock(mu_);
        me_.role = away_role;
      }
      write();
      return true;
    } catch (const cluster_error& e) {
      // It expires a little sooner, as the last renewal wrote it.
      spdlog::warn("cluster: leaving the member key {} for heartbeat_ttl: {}", key_, e.what());
    }
    return false;
  }
  // A clean stop: the key goes at once, so no process waits for it to expire. A renewal that
  // timed out (a loaded machine) may still have been written, so the delete is tried whenever
  // the connection is up, and once more if it times out too; with the cluster gone, the stop
  // does not wait for it and the key expires on its own.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!error_.empty() && link_->connected_url().empty()) return false;
    try {
      link_->kv_delete(members_bucket(c_), key_);
      return false;
    } catch (const cluster_error& e) {
      spdlog::debug("cluster: removing the member key {}: {}", key_, e.what());
      error_ = e.what();
    }
  }
  return false;
}

void member_heartbeat::set_role(const std::string& role) {
  {
    std::lock_guard lock(mu_);
    me_.role = role;
    dirty_ = true;
  }
  cv_.notify_all();
}

void member_heartbeat::set_published(std::map<std::string, std::uint64_t> published) {
  std::lock_guard lock(mu_);
  me_.published = std::move(published);
}

void member_heartbeat::set_costs(std::map<std::string, double> costs) {
  std::lock_guard lock(mu_);
  me_.costs = std::move(costs);
}

void member_heartbeat::set_journal(std::uint64_t journal, std::int64_t lag_ms) {
  std::lock_guard lock(mu_);
  me_.journal = journal;
  me_.lag_ms = lag_ms;
}

void member_heartbeat::keep_on_exit() {
  std::lock_guard lock(mu_);
  keep_ = true;
}

std::vector<cluster_member> member_heartbeat::members() const {
  std::lock_guard lock(mu_);
  return members_;
}

std::map<std::string, std::map<std::string, std::uint64_t>> member_heartbeat::published_seen()
    const {
  std::lock_guard lock(mu_);
  return published_seen_;
}

std::set<std::string> member_heartbeat::seen_as(const std::string& role) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [instance, r] : role_seen_)
    if (r == role) out.insert(instance);
  return out;
}

std::chrono::steady_clock::time_point member_heartbeat::members_read_at() const {
  std::lock_guard lock(mu_);
  return members_read_at_;
}

std::string member_heartbeat::last_error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void member_heartbeat::write(bool patient) {
  std::string value;
  std::map<std::string, std::uint64_t> published;
  {
    std::lock_guard lock(mu_);
    value = encode(me_);
    published = me_.published;
  }
  link_->kv_put(members_bucket(c_), key_, value, patient);
  std::lock_guard lock(mu_);
  written_published_.push_back(std::move(published));
  if (written_published_.size() > 3) written_published_.pop_front();
}

std::map<std::string, std::uint64_t> member_heartbeat::listed_published() const {
  std::lock_guard lock(mu_);
  return written_published_.size() == 3 ? written_published_.front()
                                        : std::map<std::string, std::uint64_t>{};
}

std::optional<std::uint64_t> said_published(const std::vector<cluster_member>& live,
                                            const std::string& member, const std::string& id) {
  const auto mb = std::find_if(live.begin(), live.end(),
                               [&](const cluster_member& m) { return m.instance == member; });
  if (mb == live.end()) return std::nullopt;
  const auto s = mb->published.find(id);
  if (s == mb->published.end()) return std::nullopt;
  return s->second;
}

std::optional<cluster_member> decode_member(const std::string& value) {
  try {
    const auto j = nlohmann::json::parse(value);
    return cluster_member{j.value("instance", ""),
                          j.value("role", ""),
                          j.value("publish", ""),
                          j.value("snapshot", ""),
                          j.value("graph", ""),
                          j.value("published", std::map<std::string, std::uint64_t>{}),
                          costs_of(j.value("costs", nlohmann::json::object())),
                          j.value("journal", std::uint64_t{0}),
                          j.value("lag_ms", std::int64_t{0})};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<cluster_member> read_members(jetstream_link& link, const cluster_decl& c) {
  const std::string bucket = members_bucket(c);
  std::vector<cluster_member> out;
  std::vector<std::string> keys;
  try {
    keys = link.kv_keys(bucket, c.engine_id + ".");
  } catch (const cluster_missing&) {
    return out;  // no engine on this stream ever ran: no members yet
  }
  for (const auto& key : keys) {
    const auto e = link.kv_get(bucket, key);
    if (!e) continue;  // expired between the listing and the read
    if (auto m = decode_member(e->value)) {
      out.push_back(std::move(*m));
    } else {
      spdlog::warn("cluster: {}/{} is not a member record", bucket, key);
    }
  }
  return out;
}

member_watch::member_watch(const cluster_decl& c, const std::string& connection_name,
                           std::chrono::milliseconds every, std::chrono::milliseconds request)
    : c_(c),
      every_(every),
      link_(std::make_unique<jetstream_link>(c, connection_name, request.count())) {
  update_ = read_members(*link_, c_);
  reader_ = std::thread([this] { read_on(); });
}

member_watch::~member_watch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  link_->close();  // a read waiting on a cluster that does not answer ends now
  reader_.join();
}

std::optional<std::vector<cluster_member>> member_watch::take_update() {
  std::lock_guard lock(mu_);
  return std::exchange(update_, std::nullopt);
}

void member_watch::read_on() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, every_, [&] { return stopping_; })) {
    lock.unlock();
    std::optional<std::vector<cluster_member>> read;
    try {
      read = read_members(*link_, c_);
    } catch (const cluster_error& e) {
      // The link reconnects on its own; the reader keeps the members it has meanwhile.
      spdlog::debug("cluster: reading the members of engine {}: {}", c_.engine_id, e.what());
    }
    lock.lock();
    if (read) update_ = std::move(read);
  }
}

}  // namespace shoal
