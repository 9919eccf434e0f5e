"""Cluster mode, the active process of a placed engine stopped cleanly (issue 14): three JetStream
servers and two processes of one engine ([cluster] members = 2), fed by this test's ZeroMQ feed
in bursts. Once both publish their share, the active process gets a SIGTERM. Checked:
  - its stop leaves its member key (role `away`) saying everything it published, before it gives
    the lease up: the placed standby that takes the lease restarts as the active process and its
    placement hands each of the stopped process's nodes on from exactly the last seq that
    process published (admin `cluster`, `placement.handed`);
  - a subscriber of both endpoints sees every node's seqs with no gap and none twice — the heir
    publishes the moved nodes from where they stopped, not their whole history again;
  - the heir ingests the feed again, and its store equals a single process replaying its
    journal."""
import os
import signal

import zmq

from cluster_harness import (OutputLog, ScanBursts, cluster_state, local_cluster, placed_engines, receive_from_all,
                             scans_ingested, start_placed)
from harness import bound_feed, check, nodes_toml, parity_rows, run, wait_for, workdir

ASSETS = [f"A{i}" for i in range(6)]
wd = workdir()
cluster = local_cluster(wd)
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
NODES = nodes_toml(("ret", "log_return", "feed.scan"), ("fast", "ema", "ret", "span = 5"),
                   ("slow", "ema", "ret", "span = 30"), ("z", "zscore", "ret", "window = 20"))
NAMES = ["ret", "fast", "slow", "z"]

cfgs, ports, data, logs = placed_engines(wd, cluster, feed_ep, ("a", "b"), NODES, "ch", 2)
outputs = OutputLog()
stop_receiving = receive_from_all(ctx, ports, outputs)
procs, first, instance, owned = start_placed(cfgs, data, logs, "a", subscribed)
check(owned["a"] and owned["b"], f"a process has no node: {owned}")

scans = ScanBursts(feed, ASSETS)
burst = scans.burst


last_from = outputs.last_from


for _ in range(12):
    burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"the active process ingesting all {scans.sent} scans")
wait_for(lambda: cluster_state(data["a"]).get("lag", 1) == 0, timeout=30, what="the journal all in the cluster")
wait_for(lambda: all(last_from("a", n) > 0 for n in owned["a"]), timeout=30, what="outputs of a's nodes")
procs["a"].send_signal(signal.SIGTERM)
check(procs["a"].wait(timeout=60) == 0, f"a did not stop cleanly: {open(logs['a']).read()[-3000:]}")
wait_for(lambda: "restarts as the active process" in open(logs["b"]).read(), timeout=30,
         what="b taking the lease a gave up")
wait_for(lambda: cluster_state(data["b"]).get("role") == "active", timeout=30, what="b answering as active")
state = cluster_state(data["b"])
check(set(state["placement"]["nodes"].values()) == {instance["b"]}, f"b after a stopped: {state}")
handed = state["placement"]["handed"]
# a's last messages may still be on their way to the subscriber (a few ms).
wait_for(lambda: all(last_from("a", n) >= handed.get(n, 0) for n in owned["a"]), timeout=5,
         what=f"the subscriber receiving from a what b's placement says a published: {handed}")
for node in owned["a"]:
    check(handed.get(node) == last_from("a", node),
          f"{node} handed on from {state['placement']['handed'].get(node)}, a published up to "
          f"{last_from('a', node)}: {state['placement']}")
subscribed()
for _ in range(6):
    burst(25)
wait_for(lambda: scans_ingested(data["b"]) == scans.sent, timeout=30, what=f"b ingesting all {scans.sent} scans")
procs["b"].send_signal(signal.SIGTERM)
check(procs["b"].wait(timeout=60) == 0, f"b did not stop cleanly: {open(logs['b']).read()[-3000:]}")

single = os.path.join(wd, "single")
r = run(["replay", data["b"], "--out", single])
check(r.returncode == 0, f"replay: {r.stderr}")
want = parity_rows(run(["parity", single, single]).stdout)
check(want["feed.scan"][0] == scans.sent, f"{scans.sent} scans sent, {want['feed.scan'][0]} in the journal")
# b's last messages, in flight to the subscriber when it stopped.
wait_for(lambda: all(last_from("b", n) == want[n][0] for n in NAMES), timeout=5,
         what="the last output of every node from b")
stop_receiving()
check(not outputs.clashes, f"a seq came with different bytes: {outputs.clashes[:5]}")
for node in NAMES:
    got, twice = outputs.seqs(node), outputs.repeated(node)
    last = want[node][0]
    # From the first it received (a subscriber that joins late misses the first ones).
    check(got and got == list(range(got[0], last + 1)),
          f"{node}: received {len(got)} seqs {got[:1]}..{got[-1:]} of ..{last}")
    check(not twice, f"{node} ({'moved' if node in owned['a'] else 'stayed'}): seqs received twice "
                     f"{twice[:10]}{'...' if len(twice) > 10 else ''} ({len(twice)})")
p = run(["parity", single, data["b"]])
rows = parity_rows(p.stdout)
for node in NAMES + ["feed.scan"]:
    x, y, eq = rows.get(node, (0, 0, False))
    check(eq and x == y and x > 0, f"{node} on b differs from the single process:\n{p.stdout}")
print(f"ok: {scans.sent} scans; a stopped cleanly, b took {owned['a']} on from "
      f"{ {n: state['placement']['handed'][n] for n in owned['a']} } with no seq twice")
