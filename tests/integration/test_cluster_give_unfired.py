"""Cluster mode, a standby that joins is given a node that never fired (issue 14): two processes
of one engine ([cluster] members = 2) fed over ZeroMQ, whose graph has a node on a stream the
feed never sends (q = log_return(feed.quiet), q2 = ema(q)) beside one that fires
(ret = log_return(feed.scan)). Fewer than 200 scans are sent, so no node's cost is measured and
each costs 1: the give below is the same every run. Standby b is killed: the active process a
takes its nodes while it runs. b starts again on its dir and joins: a gives it q2 (the costliest
with what is upstream of it). Checked:
  - b's member record says it publishes q2 with seq 0 (it made no output), so a cuts q2 at 0
    (admin `placement.gave.stopped`; its log says b publishes the node it gave) within 20 s of
    the placement, not after the 60 s a give waits at most for a standby that never says so;
  - a subscriber of both endpoints sees ret's seqs with no gap to the last one a single-process
    replay has and no seq twice with different bytes, nothing of q or q2, and every scan sent is
    in a's journal."""
import os
import subprocess
import time

import zmq

from cluster_harness import (OutputLog, ScanBursts, check_received, cluster_state, local_cluster, receive_from_all,
                             scans_ingested, start_placed)
from harness import bound_feed, check, feed_config, nodes_toml, start, wait_for, workdir

TTL_S = 2
NODES = nodes_toml(("ret", "log_return", "feed.scan"), ("q", "log_return", "feed.quiet"), ("q2", "ema", "q", "span = 5"))
STREAM = 'schema = "scan"\none_per_bucket = true\n'

wd = workdir()
cluster = local_cluster(wd)
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan", "quiet"])
cfgs, ports, data, logs = {}, {}, {}, {}
for name in ("a", "b"):
    cfgs[name], ports[name] = feed_config(wd, name, feed_ep, {"scan": STREAM, "quiet": STREAM}, nodes=NODES,
                                          source='interval = "1s"')
    open(cfgs[name], "a").write(f'\n[cluster]\n{cluster.servers_line}\nengine_id = "gu"\n'
                                f'heartbeat_ttl = "{TTL_S}s"\nmembers = 2\n')
    data[name] = os.path.join(wd, name)
    logs[name] = os.path.join(wd, f"{name}.log")
outputs = OutputLog()
stop_receiving = receive_from_all(ctx, ports, outputs)
procs, first, instance, owned = start_placed(cfgs, data, logs, "a", subscribed)
scans = ScanBursts(feed, ["A0", "A1", "A2"])
for _ in range(4):
    scans.burst(5)


def feed_until(done, what, timeout):
    """One scan every 0.15 s until DONE() (the test stays far below 200 scans)."""
    by = time.monotonic() + timeout
    while not done():
        check(time.monotonic() < by, what() if callable(what) else what)
        scans.burst(1)
    check(scans.sent < 200, f"{scans.sent} scans: costs would be measured")


procs["b"].kill()  # SIGKILL
procs["b"].wait(timeout=10)
feed_until(lambda: cluster_state(data["a"]).get("placement", {}).get("handed_restore", {}).get("while_running"),
           lambda: f"a did not take b's nodes: {cluster_state(data['a'])}", 40)
check(set(cluster_state(data["a"])["placement"]["nodes"].values()) == {instance["a"]},
      f"a after b died: {cluster_state(data['a'])['placement']}")

# b again, on its dir: outside the placement, it joins.
back = time.monotonic()
procs["b"] = start(["run", cfgs["b"], "--data", data["b"], "--standby"], stdout=subprocess.DEVNULL,
                   stderr=open(logs["b"] + ".2", "w"))


def given():
    return cluster_state(data["a"]).get("placement", {}).get("gave")


feed_until(given, lambda: f"a gave b no nodes: {cluster_state(data['a'])}\n{open(logs['a']).read()[-3000:]}", 60)
gave_at = time.monotonic()
gave = given()
check(gave["to"] == instance["b"] and gave["nodes"] == ["q2"], f"a gave b {gave}, not q2 alone")
feed_until(lambda: "ms" in given(),
           lambda: f"a still publishes q2, which it gave b (b never said it publishes it): {given()}\n"
                   f"{open(logs['b'] + '.2').read()[-3000:]}", 20)
cut_after = time.monotonic() - gave_at
gave = given()
check(gave["stopped"] == {"q2": 0}, f"a cut q2 at {gave['stopped']}, not at 0")
log_a = open(logs["a"]).read()
check(f"standby {instance['b']} publishes the 1 node(s) this process gave it" in log_a, f"a's log: {log_a[-3000:]}")

for _ in range(3):
    scans.burst(5)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
for n in ("a", "b"):
    procs[n].terminate()
for n in ("a", "b"):
    check(procs[n].wait(timeout=60) == 0, f"{n} did not stop cleanly")
time.sleep(0.3)  # the last messages in flight to the subscriber
stop_receiving()
check_received(outputs, data["a"], wd, scans.sent, ["ret"])
check(not outputs.seqs("q") and not outputs.seqs("q2"), "a node on the quiet stream published an output")
print(f"ok: {scans.sent} scans; b back, given q2 {gave_at - back:.2f} s after its start; a cut it at seq 0 "
      f"{cut_after:.2f} s after the placement")
