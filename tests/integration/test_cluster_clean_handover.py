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
    journal;
  - the stopped process, started again on its data dir once its nodes moved (as a standby the
    placement does not name), rebuilds every node from its journal instead of being refused:
    it follows the journal to its end, what it publishes has the bytes the others published
    under the same seqs, and its store equals a replay of its journal."""
import os
import re
import signal
import subprocess

import zmq

from cluster_harness import (OutputLog, ScanBursts, cluster_state, local_cluster, placed_engines, receive_from_all,
                             scans_ingested, start_placed)
from harness import bound_feed, check, check_parity, free_port, nodes_toml, parity_rows, run, start, wait_for, workdir

ASSETS = [f"A{i}" for i in range(6)]
wd = workdir()
cluster = local_cluster(wd)
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
NODES = nodes_toml(("ret", "log_return", "feed.scan"), ("fast", "ema", "ret", "span = 5"),
                   ("slow", "ema", "ret", "span = 30"), ("z", "zscore", "ret", "window = 20"))
NAMES = ["ret", "fast", "slow", "z"]

cfgs, ports, data, logs = placed_engines(wd, cluster, feed_ep, ("a", "b"), NODES, "ch", 2)
for n in cfgs:  # a back stays outside the placement (test_cluster_active_takes shows a join)
    open(cfgs[n], "a").write("active_gives = false\n")
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
# b took a's nodes once its sources ran: from a's checkpoint in the cluster, or (a put none there
# in a run this short, or one past what it was known to have published) by rebuilding every node
# it computes, its nodes renewed empty after they were spawned from its own checkpoint. Either
# way the seqs and bytes below hold.
b_log = open(logs["b"]).read()
b_log = b_log[b_log.index("restarts as the active process"):]
check("its sources journal what a feed sends while" in b_log
      and ("to this process start from" in b_log) != ("rebuilds every node it computes" in b_log)
      and "FAILED" not in b_log, f"b taking a's nodes: {b_log[-3000:]}")
subscribed()
for _ in range(6):
    burst(25)
wait_for(lambda: scans_ingested(data["b"]) == scans.sent, timeout=30, what=f"b ingesting all {scans.sent} scans")

# a back on its data dir, as a standby, after its nodes moved: b's placement does not name it, so
# it computes every node, and its dir last checkpointed only a's share and what is upstream of
# it. It rebuilds every node from its journal. It publishes on another port (every node, beside
# b: the subscriber above would count those seqs twice); a subscriber of it checks the bytes.
a2_cfg = os.path.join(wd, "a2.toml")
open(a2_cfg, "w").write(re.sub(r'publish = "tcp://127\.0\.0\.1:\d+"',
                               f'publish = "tcp://127.0.0.1:{(a2_port := free_port())}"', open(cfgs["a"]).read()))
again = OutputLog()
stop_again = receive_from_all(ctx, {"a2": a2_port}, again)
a2_log = os.path.join(wd, "a2.log")
a2 = start(["run", a2_cfg, "--data", data["a"], "--standby"], stdout=subprocess.DEVNULL, stderr=open(a2_log, "w"))
wait_for(lambda: "so it rebuilds every node" in open(a2_log).read() or a2.poll() is not None, timeout=60,
         what="a, started again, rebuilding")
check(a2.poll() is None, f"a, started again on its dir, exited: {open(a2_log).read()[-3000:]}")
check("is not in the placement" in open(a2_log).read(), f"a placed again: {open(a2_log).read()[-3000:]}")
for _ in range(4):
    burst(25)
wait_for(lambda: scans_ingested(data["b"]) == scans.sent and scans_ingested(data["a"]) == scans.sent, timeout=30,
         what=f"b ingesting and a following all {scans.sent} scans")
wait_for(lambda: all(again.seqs(n) for n in NAMES), timeout=10, what="a publishing every node")
a2.send_signal(signal.SIGTERM)
check(a2.wait(timeout=60) == 0, f"a, started again, did not stop cleanly: {open(a2_log).read()[-3000:]}")
stop_again()
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
rows = check_parity(single, data["b"], "b differs from the single process")
check(set(NAMES + ["feed.scan"]) <= set(rows), f"b lacks a node: {sorted(rows)}")
# a, started again: what it published has the bytes the others published under each seq, and
# its store (every node, rebuilt) equals a replay of its own journal.
check(not again.clashes, f"a seq came twice from a with different bytes: {again.clashes[:5]}")
compared = 0
for (topic, seq), (payload, _, _) in list(again.seen.items()):
    if (topic, seq) in outputs.seen:
        check(outputs.seen[(topic, seq)][0] == payload, f"{topic} seq {seq} from a, started again, differs")
        compared += 1
# a published during the last bursts, seqs the main subscriber also had from b.
check(compared > 0, f"no seq from a, started again, was also received from b ({len(again.seen)} from a)")
single_a = os.path.join(wd, "single-a")
check(run(["replay", data["a"], "--out", single_a]).returncode == 0, "replay of a's dir")
rows = check_parity(single_a, data["a"], "a, started again, differs from the single process")
check(set(NAMES + ["feed.scan"]) <= set(rows), f"a, started again, lacks a node: {sorted(rows)}")
print(f"ok: {scans.sent} scans; a stopped cleanly, b took {owned['a']} on from "
      f"{ {n: state['placement']['handed'][n] for n in owned['a']} } with no seq twice; a, started again on its "
      f"dir, rebuilt every node ({len(again.seen)} outputs published, the same bytes)")
