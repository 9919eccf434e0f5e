#include "runtime/store/journal_prefetch.hpp"

#include <algorithm>

namespace shoal {

journal_prefetch::journal_prefetch(const store& from, std::size_t batch, std::size_t depth,
                                   std::uint64_t after, std::uint64_t through)
    : from_(from), batch_(batch), depth_(depth), after_(after), through_(through) {
  thread_ = std::thread([this] { run(); });
}

journal_prefetch::~journal_prefetch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void journal_prefetch::run() {
  try {
    std::uint64_t pos = after_, read = 0;
    for (;;) {
      std::size_t limit = batch_;
      if (through_) limit = pos >= through_ ? 0 : std::min<std::uint64_t>(batch_, through_ - pos);
      auto batch = limit ? from_.read_records(&pos, limit) : std::vector<journal_record>{};
      read += batch.size();
      if (read % 65536 < batch.size()) from_.release_mapped_pages();
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || ready_.size() < depth_; });
      if (stopping_) return;
      if (batch.empty()) {
        done_ = true;
        cv_.notify_all();
        return;
      }
      ready_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard lock(mu_);
    error_ = std::current_exception();
    done_ = true;
    cv_.notify_all();
  }
}

std::vector<journal_record> journal_prefetch::next() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    auto batch = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return batch;
  }
  if (error_) std::rethrow_exception(error_);
  return {};
}

}  // namespace shoal
