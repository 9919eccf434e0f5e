#include "runtime/cluster/journal_follower.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "runtime/cluster/engine_lease.hpp"
#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/cluster/journal_pull.hpp"

namespace shoal {

journal_follower::journal_follower(cluster_decl c, std::uint64_t after, std::string last, hooks h)
    : c_(std::move(c)),
      hooks_(std::move(h)),
      after_(after),
      last_(std::move(last)),
      followed_(after) {
  thread_ = std::thread([this] { run(); });
  prober_ = std::thread([this] { probe(); });
}

journal_follower::~journal_follower() { stop(); }

void journal_follower::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  stop_probe();
}

void journal_follower::stop_probe() {
  {
    std::lock_guard lock(mu_);
    probe_stop_ = true;
  }
  probe_cv_.notify_all();
  if (prober_.joinable()) prober_.join();
}

std::string journal_follower::holder() const {
  std::lock_guard lock(mu_);
  return holder_;
}

std::string journal_follower::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

journal_follower::lag journal_follower::follow_lag() const {
  const std::uint64_t followed = followed_.load();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  age_.replicated(followed);
  lag out;
  out.stream_last = stream_last_;
  out.records = stream_last_ - std::min(stream_last_, followed);
  std::chrono::milliseconds age = age_.age(now);
  if (failed_at_)
    age = std::max(age, std::chrono::duration_cast<std::chrono::milliseconds>(now - *failed_at_));
  out.ms = age.count();
  return out;
}

void journal_follower::probe() {
  std::unique_ptr<jetstream_link> link;
  std::unique_lock lock(mu_);
  while (!probe_stop_) {
    lock.unlock();
    bool answered = false;
    try {
      // Short requests, asked once: the next probe comes soon anyway.
      if (!link)
        link = std::make_unique<jetstream_link>(c_, "shoal standby lag " + c_.engine_id, 1000);
      check_lag(*link, c_.journal_subject());
      answered = true;
    } catch (const cluster_error& e) {
      spdlog::debug("cluster: standby for engine {}: reading where the stream ends: {}",
                    c_.engine_id, e.what());
    }
    lock.lock();
    probe_cv_.wait_for(lock, answered ? lag_check : std::chrono::milliseconds(1000),
                       [&] { return probe_stop_; });
  }
}

void journal_follower::check_lag(jetstream_link& link, const std::string& subject) {
  const std::optional<stored_message> last = link.last_message(c_.stream, subject, false);
  const std::uint64_t followed = followed_.load();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (last) stream_last_ = std::max(stream_last_, journal_seq_of(last->msg_id, c_.engine_id));
  age_.replicated(followed);
  age_.committed(stream_last_, now);
  const std::chrono::milliseconds age = age_.age(now);
  if (failed_at_) return;  // said once, when it stopped
  switch (alarm_.observe(age, now)) {
    case lag_alarm::step::warn:
      spdlog::warn(
          "cluster: standby for engine {} trails the stream by journal records {}..{}, the "
          "oldest found there {:.1f} s ago: its outputs are that late, and a takeover now reads "
          "them first. This process takes fewer records/s than the engine journals",
          c_.engine_id, followed + 1, stream_last_, age.count() / 1000.0);
      break;
    case lag_alarm::step::ended:
      spdlog::info(
          "cluster: standby for engine {} follows the stream again within {} ms (it had trailed "
          "by up to {:.1f} s)",
          c_.engine_id, age.count(), alarm_.worst().count() / 1000.0);
      break;
    case lag_alarm::step::quiet:
      break;
  }
}

void journal_follower::run() {
  try {
    jetstream_link link(c_, "shoal standby " + c_.engine_id);
    link.ensure_stream(c_);
    auto lease = std::make_unique<engine_lease>(c_);
    const std::string subject = c_.journal_subject();
    journal_order order(c_.engine_id, followed_.load());
    auto hand_on = [&](std::uint64_t seq, std::string&& bytes) {
      hooks_.record(seq, std::move(bytes));
      followed_ = seq;
    };
    auto reader = link.open_reader(c_.stream, subject, 1);
    spdlog::info(
        "cluster: standby for engine {}: following {} of stream {} after journal record {}",
        c_.engine_id, subject, c_.stream, followed_.load());
    const auto period = std::chrono::nanoseconds(c_.heartbeat_ttl_ns / 3);
    auto next_try = std::chrono::steady_clock::now();
    std::uint64_t seen = 0;  // the last stream sequence read
    auto take = [&](stored_message&& m) {
      seen = m.stream_seq;
      const std::uint64_t seq = journal_seq_of(m.msg_id, c_.engine_id);
      if (after_ > 0 && seq == after_ && m.data != last_)
        throw cluster_error("data dir is not engine " + c_.engine_id + "'s: its journal record " +
                            std::to_string(after_) + " differs from the one in stream " +
                            c_.stream + "; start the standby on an empty dir");
      // A record the dir holds, that the stream has as lost: the dir of the process whose
      // record it was, started again after another took the engine over past it.
      if (seq <= after_ && hooks_.local_record && is_lost_journal_record(c_, seq, m.data))
        check_not_lost_here(c_, seq, m.data, hooks_.local_record(seq), hooks_.local_dir);
      order.add(subject, m.stream_seq, m.msg_id, std::move(m.data), hand_on);
    };
    // A read that fails (the connection lost; dropped messages the reader handles itself)
    // starts a new ordered consumer after the last message read; journal_order skips what
    // comes twice.
    auto next = [&](std::int64_t timeout_ms) -> std::optional<stored_message> {
      try {
        return reader->next(timeout_ms);
      } catch (const cluster_error& e) {
        spdlog::warn(
            "cluster: standby for engine {}: reading the stream: {}; reading on from "
            "message {}",
            c_.engine_id, e.what(), seen + 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        reader = link.open_reader(c_.stream, subject, seen + 1);
        return std::nullopt;
      }
    };
    while (!stopping_) {
      if (auto m = next(50)) {
        take(std::move(*m));
      } else if (hooks_.idle) {
        hooks_.idle();
      }
      if (std::chrono::steady_clock::now() < next_try) continue;
      next_try = std::chrono::steady_clock::now() + period;
      try {
        if (!hooks_.contend || !lease->try_acquire()) {
          std::string h = lease->holder();
          std::lock_guard lock(mu_);
          holder_ = std::move(h);
          continue;
        }
      } catch (const cluster_error& e) {
        // No answer this time (a server down, a leader being elected): try again later.
        spdlog::warn("cluster: standby for engine {}: the lease: {}", c_.engine_id, e.what());
        continue;
      }
      // The active engine is gone: everything it put in the stream goes through first.
      const auto t0 = std::chrono::steady_clock::now();
      if (auto last = link.last_message(c_.stream, subject)) {
        int misses = 0;
        while (seen < last->stream_seq) {
          auto m = next(10'000);
          if (!m && ++misses > 3)
            throw cluster_error("the stream stopped before its end, message " +
                                std::to_string(last->stream_seq));
          if (!m) continue;
          take(std::move(*m));
        }
      }
      if (order.first_waiting()) {
        // Records after a hole: a batch the cluster stored in part (a leader change) that the
        // process before could not send again (its host lost; alive, it would have within
        // seconds, at its batch's timeout). This process holds the lease now, so it alone writes
        // the journal: each missing record is put in the stream as lost, and read back like any
        // record.
        const std::vector<std::uint64_t> lost = order.missing();
        lost_records_ += record_lost_journal(link, c_, lost);
        int misses = 0;
        while (order.first_waiting()) {
          auto m = next(10'000);
          if (!m && ++misses > 3)
            throw cluster_error(
                "stream " + c_.stream + " did not give back journal record " +
                std::to_string(order.next()) + " of engine " + c_.engine_id +
                " (nor its stand-in): removed from the stream within duplicate_window, its "
                "message id is taken until the window has passed");
          if (m) take(std::move(*m));
        }
      }
      spdlog::info(
          "cluster: standby took engine {}'s lease (the holder stopped renewing it) and read its "
          "journal to record {} in {} ms; taking over",
          c_.engine_id, followed_.load(),
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                t0)
              .count());
      {
        std::lock_guard lock(mu_);
        holder_ = lease->instance();
        probe_stop_ = true;  // it follows nothing from here on (stop() joins the probe)
      }
      probe_cv_.notify_all();
      hooks_.promoted(std::move(lease));
      return;
    }
  } catch (const std::exception& e) {
    spdlog::error("cluster: standby for engine {} stopped following: {}", c_.engine_id, e.what());
    std::lock_guard lock(mu_);
    error_ = e.what();
    failed_at_ = std::chrono::steady_clock::now();
  }
}

}  // namespace shoal
