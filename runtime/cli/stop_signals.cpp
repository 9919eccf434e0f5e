#include <csignal>

#include "runtime/cli/commands.hpp"

namespace shoal {
namespace {

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signo{0};
extern "C" void on_stop_signal(int signo) {
  stop_signo = signo;
  stop_requested = true;
}

}  // namespace

const std::atomic<bool>& catch_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  return stop_requested;
}

const std::atomic<bool>& stop_flag() { return stop_requested; }

void default_stop_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

int stop_signal() { return stop_signo; }

}  // namespace shoal
