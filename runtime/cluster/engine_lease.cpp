#include "runtime/cluster/engine_lease.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "runtime/cluster/jetstream_link.hpp"

namespace shoal {

namespace {

// "host pid N since T": enough for an operator to find the holder.
std::string lease_instance() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + " pid " + std::to_string(::getpid()) + " since " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

}  // namespace

engine_lease::engine_lease(const cluster_decl& c)
    : c_(c), bucket_(c.stream + "_leases"), instance_(lease_instance()) {
  link_ = std::make_unique<jetstream_link>(c_, "shoal lease " + c_.engine_id);
  link_->ensure_kv(bucket_, c_.heartbeat_ttl_ns, c_.replicas);
}

engine_lease::~engine_lease() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

bool engine_lease::try_acquire() {
  if (held()) return true;
  const std::uint64_t rev = link_->kv_create(bucket_, c_.engine_id, instance_);
  if (rev == 0) return false;
  revision_ = rev;
  keep();  // renewed from now on: what the holder does next may take longer than the TTL
  return true;
}

void engine_lease::on_lost(std::function<void()> f) {
  std::unique_lock lock(mu_);
  if (lost_) {
    lock.unlock();
    f();
    return;
  }
  on_lost_ = std::move(f);
}

bool engine_lease::acquire(std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  bool told = false;
  for (;;) {
    if (try_acquire()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    if (!told) {
      spdlog::info("cluster: engine {} is held by {}; waiting up to {} ms for its lease to expire",
                   c_.engine_id, holder(), wait.count());
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(c_.heartbeat_ttl_ns / 10));
  }
}

void engine_lease::keep() {
  keeper_ = std::thread([this] {
    std::unique_lock lock(mu_);
    const auto period = std::chrono::nanoseconds(c_.heartbeat_ttl_ns / 3);
    while (!cv_.wait_for(lock, period, [&] { return stopping_; })) {
      const std::uint64_t rev = revision_.load();
      if (rev == 0) return;
      try {
        if (const std::uint64_t next = link_->kv_update(bucket_, c_.engine_id, instance_, rev)) {
          revision_ = next;
          continue;
        }
        // Not our revision any more. A renewal stored whose acknowledgement was lost (a server
        // killed under it) left our own value at a newer revision; a lease that merely expired
        // (the whole cluster down for longer than heartbeat_ttl, so nobody could renew or take
        // it) is taken again; one another process holds is lost.
        const auto now = link_->kv_get(bucket_, c_.engine_id);
        if (now && now->value == instance_) {
          revision_ = now->revision;
          continue;
        }
        if (!now) {
          if (const std::uint64_t again = link_->kv_create(bucket_, c_.engine_id, instance_)) {
            spdlog::warn(
                "cluster: engine {}: the lease had expired (no renewal reached the "
                "cluster); taken again",
                c_.engine_id);
            revision_ = again;
            continue;
          }
        }
        revision_ = 0;
        lost_ = true;
        spdlog::error("cluster: engine {}: the lease was taken by {}; this process stops ingesting",
                      c_.engine_id, now ? now->value : holder());
        auto f = on_lost_;
        lock.unlock();
        if (f) f();
        return;
      } catch (const cluster_error& e) {
        // No server answered in time: the lease still runs until its TTL; try again.
        spdlog::warn("cluster: engine {}: renewing the lease: {}", c_.engine_id, e.what());
      }
    }
  });
}

void engine_lease::release() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  if (revision_.exchange(0) == 0) return;
  try {
    link_->kv_delete(bucket_, c_.engine_id);
  } catch (const cluster_error& e) {
    spdlog::warn("cluster: engine {}: giving up the lease: {} (it expires on its own)",
                 c_.engine_id, e.what());
  }
}

std::string engine_lease::holder() {
  try {
    const auto e = link_->kv_get(bucket_, c_.engine_id);
    return e ? e->value : std::string();
  } catch (const cluster_error&) {
    return "(unknown)";
  }
}

}  // namespace shoal
