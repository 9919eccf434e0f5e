// The live fabricator source: a thread that emits one fabricated bucket per pace of the clock.
// It owns its thread, so waiting (for the pace, for ingest while a checkpoint pauses it, for the
// store when its queue is full) never blocks an actor's scheduler thread.
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "runtime/sources/fabricator_feed.hpp"
#include "runtime/sources/sources.hpp"

namespace shoal {
namespace {

class fabricator_source final : public thread_source {
 public:
  fabricator_source(const source_decl& decl, std::shared_ptr<ingest> in, clock& clk)
      : feed_(decl.name, decl.params, decl.interval_ns),
        in_(std::move(in)),
        clock_(clk),
        pace_(decl.pace_ns > 0 ? decl.pace_ns : decl.interval_ns),
        name_(decl.name) {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {  // the store stopped under us: nothing more to feed
        if (!stop_) spdlog::error("source {}: {}", name_, e.what());
      }
    });
  }
  ~fabricator_source() override { stop(); }
  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    auto due = clock_.now();
    while (!stop_) {
      // Buckets the journal already holds (after a restart) are regenerated and skipped by
      // ingest without waiting for the pace: continue until one bucket is new.
      while (!stop_ && !feed_.emit_next(*in_)) {
      }
      due += pace_;
      clock_.sleep_until(due, stop_);
    }
  }

  fabricator_feed feed_;
  std::shared_ptr<ingest> in_;
  clock& clock_;
  clock::duration pace_;
  std::string name_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<thread_source> start_fabricator_source(const source_decl& decl,
                                                       std::shared_ptr<ingest> in, clock& clk) {
  return std::make_unique<fabricator_source>(decl, std::move(in), clk);
}

}  // namespace shoal
