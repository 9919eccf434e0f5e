#pragma once
// Waiting on a condition with a deadline: threads under test (the store writer, a source) make
// progress on their own; a test waits for what it expects, never for a fixed time.

#include <chrono>
#include <thread>

namespace shoal::test {

template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace shoal::test
