#pragma once
// process_metrics: the process_* family Prometheus' own clients export (CPU seconds, resident
// and virtual memory, open and maximum fds, start time), read from /proc/self, so dashboards and
// alerts written for any exporter work on shoal too.

#include "runtime/metrics/prometheus_text.hpp"

namespace shoal {

struct process_sample {
  double cpu_seconds = 0;  // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // unix time
};

// This process, now. A figure /proc does not give stays 0.
process_sample sample_process();

void write_process_metrics(prometheus_text& t, const process_sample& p);

}  // namespace shoal
