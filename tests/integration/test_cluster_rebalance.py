"""Cluster mode, nodes moved by measured cost while the processes run (issue 14; [cluster]
rebalance_above): three processes of one engine ([cluster] members = 3, checkpoints in the
cluster, rebalance_above = 2, rebalance_every = "2s") fed over ZeroMQ in bursts, running six emas
of the scan stream (independent nodes of about the same cost: two on each process). Standby c
runs with the failpoint cost_scale=1000: every cost it measures of its nodes is reported 1000
times over, as if its kernels were that slow, so it computes far more than twice what standby b
does. Checked:
  - the active process a moves one of c's nodes to b by itself, once every node's cost is
    measured: its log says why, admin `placement.move` says `by: rebalance`, from c to b;
  - b restarts and starts the node from c's checkpoint in the cluster; c publishes it until b
    says it does, then stops; one move only (c keeps its last node, and b is not costlier than
    twice c after);
  - a subscriber of every endpoint has every seq of every node with no gap to the last one a
    single-process replay has, and no seq twice with different bytes."""
import time

from cluster_harness import (check_received, cluster_state, feed_until_checkpointed, placed_two_chains, scans_ingested,
                             stop_cleanly)
from harness import check, nodes_toml, wait_for

TTL_S = 2
SPANS = (3, 5, 8, 13, 21, 34)
NAMES = [f"e{s}" for s in SPANS]
placed = placed_two_chains(("a", "b", "c"), "rb", TTL_S, cluster_lines='rebalance_above = 2\nrebalance_every = "2s"\n',
                           envs={"c": {"SHOAL_FAILPOINTS": "cost_scale=1000"}},
                           nodes=nodes_toml(*((f"e{s}", "ema", "feed.scan", f"span = {s}") for s in SPANS)))
wd, data, logs, procs, instance, owned, scans = (placed.wd, placed.data, placed.logs, placed.procs, placed.instance,
                                                 placed.owned, placed.scans)
outputs = placed.outputs
check(len(owned["c"]) == 2, f"c does not publish two of the six nodes: {owned}")
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["c"])
started = time.monotonic()


def rebalanced():
    m = cluster_state(data["a"]).get("placement", {}).get("move", {})
    return m if m.get("by") == "rebalance" else None


while not rebalanced():  # c's costs measured (200 events after its first measure), then a listing
    check(time.monotonic() - started < 60, f"a did not move a node off c: {cluster_state(data['a']).get('placement')}\n"
                                           f"{open(logs['a']).read()[-3000:]}")
    scans.burst(5)
move = rebalanced()
check(move["from"] == instance["c"] and move["to"] == instance["b"] and move["node"] in owned["c"]
      and "why_not" not in move, f"a's rebalance: {move}")
log_a = open(logs["a"]).read()
check(f"more than 2 times what {instance['b']} computes" in log_a and "(rebalance), handed on after seq" in log_a,
      f"a's log: {log_a[-3000:]}")


def c_cut():
    g = cluster_state(data["c"]).get("placement", {}).get("gave", {})
    return g if g.get("nodes") == [move["node"]] and "ms" in g else None


while not c_cut():
    check(time.monotonic() - started < 90, f"c did not stop publishing {move['node']}: "
                                           f"{cluster_state(data['c']).get('placement')}")
    scans.burst(5)
cut = c_cut()["stopped"][move["node"]]
restored = cluster_state(data["b"])["placement"].get("handed_restore", {})
check(restored.get("from") == instance["c"] and "why_not" not in restored,
      f"b did not start {move['node']} from c's checkpoint: {restored}")
# One move only: more periods go by with the feed on, and nothing else moves.
placement = cluster_state(data["a"])["placement"]["nodes"]
for _ in range(12):
    scans.burst(25)
    time.sleep(0.3)
check(cluster_state(data["a"])["placement"]["nodes"] == placement,
      f"more moves: {placement} → {cluster_state(data['a'])['placement']}")
check(log_a.count("(rebalance)") == open(logs["a"]).read().count("(rebalance)"), "a moved another node")
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
for n in ("b", "c"):
    wait_for(lambda: cluster_state(data[n]).get("followed", 0) >= cluster_state(data["a"])["committed"],
             timeout=30, what=f"{n} following the whole journal")
time.sleep(1)  # each publishes its last outputs
stop_cleanly(procs, logs, ("a", "b", "c"), placed.stop_receiving)
check_received(outputs, data["a"], wd, scans.sent, NAMES, [move["node"]])
placed.cluster.down()
print(f"ok: {scans.sent} scans; a moved {move['node']} from c to b by measured cost (handed after seq "
      f"{move['handed']}), {time.monotonic() - started:.1f} s into the run; c stopped after seq "
      f"{cut}")
