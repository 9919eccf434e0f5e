#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

#include "messages/journal_record.hpp"
#include "runtime/sources/sources.hpp"
#include "runtime/window/window_cache.hpp"

namespace shoal {
namespace {

class journal_source final : public thread_source {
 public:
  journal_source(source_decl decl, std::shared_ptr<ingest> in, clock& clk)
      : decl_(std::move(decl)), in_(std::move(in)), clock_(clk) {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        spdlog::error("source {}: {}", decl_.name, e.what());
      }
      done_ = true;
    });
  }
  ~journal_source() override { stop(); }
  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool done() const override { return done_; }

 private:
  void run() {
    const std::string from = decl_.params.at("source").as_string();
    store feed(decl_.params.at("path").as_string(), false);
    // The feed's stream names map onto this source's: <from>.<stream> → <name>.<stream>.
    std::map<std::string, std::pair<std::string, std::uint64_t>, std::less<>> streams;
    for (const auto& st : decl_.streams)
      streams[from + "." + st.name] = {decl_.name + "." + st.name, 0};
    const auto pace = std::chrono::nanoseconds(decl_.pace_ns);
    auto next_due = clock_.now();
    std::int64_t last_bucket = INT64_MIN;
    std::uint64_t pos = 0;
    // After a restart the feed is delivered again from its start and ingest skips what the
    // journal already holds: that part is not paced (as the fabricator's), else a restart would
    // wait as long as the first run had fed before anything new arrives.
    bool live = false;
    while (!stop_) {
      std::vector<std::pair<std::uint64_t, std::string>> batch;
      feed.read_journal(pos, 1024, [&](std::uint64_t seq, std::string_view bytes) {
        batch.emplace_back(seq, std::string(bytes));
      });
      if (batch.empty()) return;
      for (auto& [seq, bytes] : batch) {
        if (stop_) return;
        pos = seq;
        journal_record r = decode_journal_record(bytes);
        auto it = streams.find(stream_of(r));
        if (it == streams.end()) continue;
        auto& [name, index] = it->second;
        if (const auto* e = std::get_if<Event>(&r)) {
          // Paced by event time: one pace of wall clock per new bucket.
          const std::int64_t b = bucket_of(e->ts, decl_.interval_ns);
          if (live && pace.count() > 0 && b > last_bucket && last_bucket != INT64_MIN) {
            next_due += pace;
            if (!clock_.sleep_until(next_due, stop_)) return;
          }
          last_bucket = std::max(last_bucket, b);
          in_->flow().wait_below(4096);
          if (in_->event(name, e->ts, e->payload, ++index) && !live) {
            live = true;
            next_due = clock_.now();
          }
        } else if (const auto* w = std::get_if<Watermark>(&r)) {
          in_->watermark(name, w->ts);
        }
      }
    }
  }

  source_decl decl_;
  std::shared_ptr<ingest> in_;
  clock& clock_;
  std::atomic<bool> stop_{false}, done_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<thread_source> start_journal_source(const source_decl& decl,
                                                    std::shared_ptr<ingest> in, clock& clk) {
  return std::make_unique<journal_source>(decl, std::move(in), clk);
}

}  // namespace shoal
