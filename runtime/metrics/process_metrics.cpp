#include "runtime/metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace shoal {
namespace {

// Seconds since the epoch at which the machine booted (/proc/stat btime).
double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

process_sample sample_process() {
  process_sample p;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: the command name may hold spaces, so fields are counted after its ')'.
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  if (auto close = text.rfind(')'); close != std::string::npos && tick > 0) {
    std::istringstream f(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    // Fields from 3 (state) on: utime is 14, stime 15, starttime 22, vsize 23, rss 24.
    for (int i = 3; i <= 24 && f >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
      if (i == 22) start = std::stod(field);
      if (i == 23) vsize = std::stod(field);
      if (i == 24) rss = std::stod(field);
    }
    p.cpu_seconds = (utime + stime) / tick;
    static const double boot = boot_time_seconds();  // fixed until the machine reboots
    p.start_time_seconds = boot + start / tick;
    p.virtual_bytes = vsize;
    p.resident_bytes = rss * page;
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++p.open_fds;
  }
  if (struct rlimit r{}; getrlimit(RLIMIT_NOFILE, &r) == 0) {
    p.max_fds = static_cast<double>(r.rlim_cur);
  }
  return p;
}

void write_process_metrics(prometheus_text& t, const process_sample& p) {
  const auto gauge = [&](const char* name, const char* type, const char* help, double v) {
    t.family(name, type, help);
    t.sample(name, {}, v);
  };
  gauge("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
        p.cpu_seconds);
  gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        p.resident_bytes);
  gauge("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", p.virtual_bytes);
  gauge("process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  gauge("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  gauge("process_start_time_seconds", "gauge",
        "Start time of the process since unix epoch in seconds.", p.start_time_seconds);
}

}  // namespace shoal
