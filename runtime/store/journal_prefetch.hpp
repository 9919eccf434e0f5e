#pragma once
// journal_prefetch: reads and decodes a journal on its own thread, a few batches ahead of the
// caller, so replay's decoding runs beside its computing instead of before it. Batches arrive
// in journal order; a decode error is rethrown by next() where the caller would have met it.
// Memory stays bounded: at most `depth` batches wait, and the journal's map pages read are
// dropped every 64k records (see store::release_mapped_pages).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "messages/journal_record.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

class journal_prefetch {
 public:
  // Reads the records after ingest seq `after` through seq `through` (0: to the end).
  journal_prefetch(const store& from, std::size_t batch = 256, std::size_t depth = 8,
                   std::uint64_t after = 0, std::uint64_t through = 0);
  ~journal_prefetch();  // stops the reader, whatever it was doing
  journal_prefetch(const journal_prefetch&) = delete;
  journal_prefetch& operator=(const journal_prefetch&) = delete;

  // The next batch in journal order; empty at the end of the journal.
  std::vector<journal_record> next();

 private:
  void run();

  const store& from_;
  const std::size_t batch_, depth_;
  const std::uint64_t after_, through_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<journal_record>> ready_;
  std::exception_ptr error_;
  bool done_ = false, stopping_ = false;
  std::thread thread_;
};

}  // namespace shoal
