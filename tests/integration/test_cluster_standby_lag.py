"""Cluster mode, a standby slower than the stream (issue 14: consumer lag per engine). Engine l1
runs on a 3-server JetStream cluster, a fabricator scan every 2 ms; its standby is stopped
(SIGSTOP) 99 % of every second, as a host too slow for the feed would be, until its log warns.
  - the warning names the records it lacks and an age of at least 5 s;
  - admin `cluster` and metrics on the standby, asked while it still trails, give that lag
    (follow_lag > 0, follow_lag_ms >= 5000);
  - let run again, it catches up: the log says so with the worst age, and its lag is 0 again."""
import json
import os
import re
import signal
import socket
import subprocess
import time

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)


def config(name):
    return cluster_engine_config(wd, name, "l1", f'{cluster.servers_line}\nheartbeat_ttl = "2s"\ncheckpoints = false')


cfg_a, _ = config("a")
cfg_b, _ = config("b")
data_a, data_b = os.path.join(wd, "a"), os.path.join(wd, "b")
active = start(["run", cfg_a, "--data", data_a], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(data_a).get("replicated", 0) >= 500, timeout=30, what="l1's journal in the cluster")
standby_log_path = os.path.join(wd, "standby.log")
standby = start(["run", cfg_b, "--data", data_b, "--standby"], stdout=subprocess.DEVNULL,
                stderr=open(standby_log_path, "w"))
wait_for(lambda: cluster_state(data_b).get("followed", 0) >= 500, timeout=30, what="the standby following l1")
check(cluster_state(data_b)["follow_lag_ms"] < 5000, f"the standby lags at once: {cluster_state(data_b)}")


def standby_log():
    return open(standby_log_path).read()


def ask_while_stopped(cmd):
    """Asks the standby's admin socket while it is stopped, lets it run just long enough to
    answer, and stops it again: the answer shows the lag as it stands, not after a catch-up."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.path.join(data_b, "shoal.sock"))  # the kernel queues it while the process sleeps
    s.sendall(json.dumps({"cmd": cmd}).encode() + b"\n")
    os.kill(standby.pid, signal.SIGCONT)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    os.kill(standby.pid, signal.SIGSTOP)
    s.close()
    return json.loads(buf)


# A host too slow for the feed: 10 ms of every second (a standby on this VM takes about 1 k
# of the feed's 5.5 k records/s so).
warning = None
deadline = time.monotonic() + 120
while warning is None and time.monotonic() < deadline:
    os.kill(standby.pid, signal.SIGSTOP)
    time.sleep(0.99)
    warning = re.search(r"standby for engine l1 trails the stream by journal records (\d+)\.\.(\d+), the oldest "
                        r"found there ([0-9.]+) s ago: its outputs are that late, and a takeover now reads them "
                        r"first", standby_log())
    if warning is None:
        os.kill(standby.pid, signal.SIGCONT)
        time.sleep(0.01)
check(warning is not None, f"no warning of the standby's lag in its log:\n{standby_log()[-3000:]}")
first, last, age_s = int(warning.group(1)), int(warning.group(2)), float(warning.group(3))
check(first <= last and age_s >= 5.0, f"the warning: {warning.group(0)}")
print(f"the standby warned: records {first}..{last}, {age_s} s")

# Still stopped: asked now, it trails by at least what it warned of.
state = ask_while_stopped("cluster")
check(state.get("role") == "standby" and state.get("follow_lag", 0) > 0 and state.get("follow_lag_ms", 0) >= 5000,
      f"admin cluster on the trailing standby: {state}")
metrics = ask_while_stopped("metrics").get("text", "")
lag_s = re.search(r"^shoal_cluster_follow_lag_seconds ([0-9.e+-]+)$", metrics, re.M)
check(lag_s is not None and float(lag_s.group(1)) >= 5, f"the trailing standby's metrics: {lag_s}")
print(f"admin: follow_lag {state['follow_lag']} records, {state['follow_lag_ms']} ms")

# Let run, it catches up and says so.
os.kill(standby.pid, signal.SIGCONT)
wait_for(lambda: "follows the stream again" in standby_log(), timeout=60, what="the standby saying it caught up")
ended = re.search(r"standby for engine l1 follows the stream again within \d+ ms \(it had trailed by up to "
                  r"([0-9.]+) s\)", standby_log())
check(ended is not None and float(ended.group(1)) >= age_s, f"the end of the lag: {standby_log()[-2000:]}")
wait_for(lambda: cluster_state(data_b)["follow_lag_ms"] < 1000, timeout=30, what="the standby's lag gone")

for p in (standby, active):
    p.terminate()
    check(p.wait(timeout=60) == 0, "an engine did not stop cleanly")
print("ok")
