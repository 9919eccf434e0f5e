// Journal write throughput: pre-encoded fabricator events (48 assets: scans and books) appended
// through the single store writer with group commits, durable (fsync per commit).
// Usage: shoal_bench_journal DIR [EVENTS]. Prints "journal_write_events_per_s <n>".
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "actors/fabricator/fabricator.hpp"
#include "messages/records.hpp"
#include "runtime/store/store_writer.hpp"

using namespace shoal;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [EVENTS]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::size_t events = argc > 2 ? std::stoul(argv[2]) : 2'000'000;
  std::filesystem::remove_all(dir);

  // Encode a pool of realistic records up front: the benchmark measures the store, not encoding.
  fabricator gen(value_map{{"seed", Value(1)},
                           {"assets", Value(48)},
                           {"levels", Value(5)},
                           {"start", Value(1'767'225'600)}},
                 1'000'000'000);
  std::vector<std::string> pool;
  std::uint64_t seq = 0;
  std::size_t bytes = 0;
  while (pool.size() < 20'000) {
    auto b = gen.next();
    pool.push_back(encode_event(Event{"market.scan", ++seq, b.scan_ts, make_value(b.scan)}));
    for (auto& [ts, book] : b.books)
      pool.push_back(encode_event(Event{"market.ob", ++seq, ts, make_value(book)}));
  }
  for (const auto& p : pool) bytes += p.size();

  store db(dir, true);
  store_writer w(db);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < events; ++i) w.append_journal(pool[i % pool.size()]);
  w.flush();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto st = w.stats();
  w.stop();
  std::printf("journal_write_events_per_s %.0f\n", events / secs);
  std::printf("journal_write_mean_record_bytes %zu\n", bytes / pool.size());
  std::printf("journal_write_commits %llu\n", static_cast<unsigned long long>(st.commits));
  std::printf("journal_write_mean_commit_ms %.3f\n",
              st.commit_ns / 1e6 / std::max<double>(1, st.commits));
  std::filesystem::remove_all(dir);
  return 0;
}
