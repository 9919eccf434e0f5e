#pragma once
// token_throttle: what a failed admin token costs. Each failure is answered after a delay that
// doubles with every failure in a row (first_delay, 2x, 4x, ... up to max_delay) and is forgotten
// after forget_after without failures; a correct token is never delayed. The first failure is
// logged at once, later ones as one summary line per log_interval, so a token-guessing flood
// neither goes unseen nor floods the log.
//
// One throttle per TCP endpoint, not per peer: every admin peer is loopback, and 127.0.0.0/8
// offers 16 M source addresses, so a per-address delay would cost a guesser nothing to dodge.
// Pure logic: the caller passes the time and waits the delay itself (an asio timer, never a
// sleep on the io thread).

#include <chrono>
#include <cstdint>

namespace shoal {

class token_throttle {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  struct options {
    std::chrono::milliseconds first_delay{100};
    std::chrono::milliseconds max_delay{5000};
    std::chrono::milliseconds forget_after{60'000};
    std::chrono::milliseconds log_interval{10'000};
  };

  struct verdict {
    std::chrono::milliseconds delay{0};  // answer the failure after this long
    bool log = false;                    // write a log line now ...
    std::uint64_t unlogged = 0;          // ... covering this many failures (this one included)
    bool first = false;                  // the first failure after a quiet period
  };

  token_throttle() = default;
  explicit token_throttle(options o) : opt_(o) {}

  verdict on_failure(time_point now);

  std::uint64_t failures() const { return total_; }
  const options& settings() const { return opt_; }

 private:
  options opt_;
  std::uint64_t streak_ = 0;    // failures in a row, none forget_after apart
  std::uint64_t total_ = 0;     // every failure since start
  std::uint64_t unlogged_ = 0;  // failures not yet in a log line
  time_point last_failure_{};
  time_point last_log_{};
};

}  // namespace shoal
