"""Cluster mode, fencing: the active engine f1 is frozen (SIGSTOP) for longer than its
heartbeat_ttl, as a long pause or a network partition would; its standby takes the lease and
goes on as f1. When the old process wakes (SIGCONT), its next renewal finds the lease taken: it
says so, stops its sources and its replication (admin `cluster` role = fenced), and keeps
answering its admin socket. The new f1 stays active, and the cluster's journal of f1 is the new
f1's, record for record."""
import os
import signal
import subprocess
import time

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, run, start, wait_for, workdir

TTL_S = 2
wd = workdir()
cluster = local_cluster(wd)
lines = f'{cluster.servers_line}\nheartbeat_ttl = "{TTL_S}s"'
cfg_a, _ = cluster_engine_config(wd, "a", "f1", lines)
cfg_b, _ = cluster_engine_config(wd, "b", "f1", lines)
data_a, data_b = os.path.join(wd, "a"), os.path.join(wd, "b")

old_log = open(os.path.join(wd, "a.log"), "w")
old = start(["run", cfg_a, "--data", data_a], stdout=old_log, stderr=subprocess.STDOUT)
wait_for(lambda: cluster_state(data_a).get("replicated", 0) >= 1000, timeout=30, what="f1 replicating")
new = start(["run", cfg_b, "--data", data_b, "--standby"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(data_b).get("followed", 0) >= 1000, timeout=30, what="the standby following")

old.send_signal(signal.SIGSTOP)
wait_for(lambda: cluster_state(data_b).get("role") == "active", timeout=30, what="the standby taking over")
old.send_signal(signal.SIGCONT)
woke = time.monotonic()
# Its next renewal, within a heartbeat_ttl of waking; generous for a loaded machine (a full
# `ctest -j2` once took longer than 3 × heartbeat_ttl here, the fence logged all the same).
wait_for(lambda: cluster_state(data_a).get("role") == "fenced", timeout=10 * TTL_S, what="the old f1 fenced")
fenced_after = time.monotonic() - woke

# Fenced: nothing more is journaled (its sources stopped), while the new f1 goes on. What its
# sources had read before the fence may still be in its commit queue: that settles first
# (a source still running would go on every 2 ms), the same count over 0.6 s.


def commits_settled():
    counts = []
    for _ in range(3):
        counts.append(cluster_state(data_a).get("committed"))
        time.sleep(0.3)
    return len(set(counts)) == 1


wait_for(commits_settled, timeout=5, what="the fenced process's last commits settling")
a_then = cluster_state(data_a)["committed"]
b_then = cluster_state(data_b)["committed"]
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    check(cluster_state(data_a).get("committed") == a_then, "the fenced process still journals")
    time.sleep(0.1)
check(cluster_state(data_b)["committed"] > b_then and cluster_state(data_b)["role"] == "active",
      f"the new f1: {cluster_state(data_b)}")

new.send_signal(signal.SIGTERM)
check(new.wait(timeout=60) == 0, "the new f1 did not stop cleanly")
old.send_signal(signal.SIGTERM)
old.wait(timeout=60)
log = open(os.path.join(wd, "a.log")).read()
check("the lease was taken by" in log and "stops ingesting" in log, f"the old f1 did not say it was fenced:\n{log[-2000:]}")

pulled = os.path.join(wd, "pulled")
r = run(["replay", "--cluster", cluster.urls, "--engine-id", "f1", pulled, "--digest", os.path.join(wd, "d.json")])
check(r.returncode == 0, f"replay --cluster: {r.stderr}")
b_journal = run(["export", data_b, "--journal"]).stdout.splitlines()
check(b_journal, "the new f1 journaled nothing")
check(run(["export", pulled, "--journal"]).stdout.splitlines() == b_journal,
      "the cluster's journal of f1 is not the new f1's")
print(f"ok: the old f1 fenced {fenced_after:.2f} s after it woke")
