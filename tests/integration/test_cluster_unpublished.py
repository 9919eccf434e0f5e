"""Cluster mode, a placed standby lost with nowhere for its nodes to go (issue 14): two processes
of one engine ([cluster] members = 2) fed over ZeroMQ in bursts, with `active_takes = false`: the
active process takes no nodes while it runs (test_cluster_active_takes.py shows the default), so
when standby b is killed its nodes are published by nobody until it starts again. Checked:
  - the active process says so: its log, admin `cluster` `placement.unpublished` (b's nodes by
    name) and the metric `shoal_cluster_nodes_unpublished`, within 3 x heartbeat_ttl of the kill
    (its key expires within one, and the active process lists every third of one);
  - b started again on its data dir takes its nodes back: the list empties, the metric is 0,
    the log says they are published again, and the subscriber receives b's nodes again."""
import os
import re
import signal
import subprocess
import time

from cluster_harness import TWO_CHAINS_NAMES, cluster_state, placed_two_chains, scans_ingested
from harness import check, run, start, wait_for

TTL_S = 2
placed = placed_two_chains(("a", "b"), "up", TTL_S, assets=6, cluster_lines="active_takes = false\n")
cfgs, data, logs, procs, owned, scans = placed.cfgs, placed.data, placed.logs, placed.procs, placed.owned, placed.scans
outputs, stop_receiving = placed.outputs, placed.stop_receiving
check(owned["b"], f"b has no node: {owned}")
for _ in range(6):
    scans.burst(25)


def unpublished():
    """What a says nobody publishes: (admin, metric)."""
    names = cluster_state(data["a"]).get("placement", {}).get("unpublished")
    metrics = run(["admin", "--socket", os.path.join(data["a"], "shoal.sock"), "metrics"]).stdout
    found = re.search(r"^shoal_cluster_nodes_unpublished (\d+)$", metrics, re.M)
    return (sorted(names) if names is not None else None), (int(found.group(1)) if found else None)


check(unpublished() == ([], 0), f"nodes unpublished while both run: {unpublished()}")
procs["b"].send_signal(signal.SIGKILL)
procs["b"].wait(timeout=10)
killed = time.monotonic()
while unpublished() != (sorted(owned["b"]), len(owned["b"])):  # the feed goes on meanwhile
    check(time.monotonic() - killed < 6 * TTL_S, f"a does not say b's nodes are unpublished: {unpublished()}")
    scans.burst(5)
took = time.monotonic() - killed
check(took <= 3 * TTL_S, f"a said so {took:.2f} s after the kill (heartbeat_ttl {TTL_S} s)")
check(re.search(r"placed process\(es\) \S+ stopped: .*has no process to go to.*their nodes are not published",
                open(logs["a"]).read()), f"a's log: {open(logs['a']).read()[-2000:]}")

# b again, on its dir: placed its nodes again.
last_seen = {node: outputs.last_from("b", node) for node in owned["b"]}
procs["b"] = start(["run", cfgs["b"], "--data", data["b"], "--standby"], stdout=subprocess.DEVNULL,
                   stderr=open(logs["b"] + ".2", "w"))
back_by = time.monotonic() + 60
while unpublished() != ([], 0):
    check(time.monotonic() < back_by, f"b's nodes still unpublished after it started again: {unpublished()}")
    scans.burst(5)
check("nobody published is back: it publishes them again" in open(logs["a"]).read(), f"a's log: {open(logs['a']).read()[-2000:]}")
later_by = time.monotonic() + 60
while not all(outputs.last_from("b", node) > last_seen[node] for node in owned["b"]):
    check(time.monotonic() < later_by, f"b publishes its nodes no further than {last_seen}")
    scans.burst(10)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
for n in ("b", "a"):
    procs[n].send_signal(signal.SIGTERM)
    check(procs[n].wait(timeout=60) == 0, f"{n} did not stop cleanly")
stop_receiving()
check(not outputs.clashes, f"a seq came with different bytes: {outputs.clashes[:5]}")
print(f"ok: b's nodes {owned['b']} unpublished {took:.2f} s after its kill, published again once it started "
      f"again; {TWO_CHAINS_NAMES} over {scans.sent} scans")
