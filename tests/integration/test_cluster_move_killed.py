"""Cluster mode, a move cut short by a kill (issue 14; admin `move`, then kill -9): three processes
of one engine ([cluster] members = 3, checkpoints in the cluster) fed over ZeroMQ in bursts. After
c put checkpoints in the cluster, `shoal admin move X b` on the active process a moves X, one of
c's nodes, to standby b; b is killed with SIGKILL as soon as it restarts to take X, before it
said it publishes X (c still publishes it). Checked:
  - a places b's nodes, X among them, on the processes left within 2 x heartbeat_ttl (and a
    listing) of the kill; nothing is placed on b;
  - the feed goes on: a subscriber of every endpoint has every seq of every node to the last one
    a single-process replay of the journal has, with no gap, and no seq twice with different
    bytes (X's among them: c published it until the kill, and whoever has it now after);
  - every scan sent is in the journal, and the processes left store every node they compute as
    one process replaying their journal does."""
import os
import time

from cluster_harness import (TWO_CHAINS_NAMES, check_dir_parity, check_received, cluster_state,
                             feed_until_checkpointed, kill_and_feed_until, placed_two_chains, scans_ingested,
                             stop_cleanly)
from harness import check, run, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
placed = placed_two_chains(("a", "b", "c"), "mk", TTL_S)
wd, data, logs, procs, instance, owned, scans = (placed.wd, placed.data, placed.logs, placed.procs, placed.instance,
                                                 placed.owned, placed.scans)
check(owned["c"], f"c has no node of its own: {owned}")
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["c"])
moved = sorted(owned["c"])[0]
restarts = open(logs["b"]).read().count("restarting on data dir")
r = run(["admin", "--socket", os.path.join(data["a"], "shoal.sock"), "move", moved, instance["b"], "--json"],
        timeout=10)
check(r.returncode == 0 and '"asked"' in r.stdout, f"admin move: {r.returncode} {r.stdout}{r.stderr}")
asked = time.monotonic()
# b restarts for X once a placed it there: killed then, X is placed on b and published by c only.
while open(logs["b"]).read().count("restarting on data dir") == restarts:
    check(time.monotonic() - asked < 30, f"b did not restart for {moved}: {open(logs['b']).read()[-3000:]}")
    scans.burst(2, pause=0.05)
check(cluster_state(data["a"])["placement"]["nodes"].get(moved) == instance["b"],
      f"a did not place {moved} on b: {cluster_state(data['a']).get('placement')}")


def b_placed_nothing():
    nodes = cluster_state(data["a"]).get("placement", {}).get("nodes", {})
    return nodes and instance["b"] not in nodes.values()


took = kill_and_feed_until(procs, ["b"], scans, b_placed_nothing,
                           lambda: f"a did not place b's nodes elsewhere: {cluster_state(data['a']).get('placement')}",
                           logs["a"])
check(took < 2 * TTL_S + TTL_S / 3 + 2, f"b's nodes placed elsewhere {took:.2f} s after the kill")
placement = cluster_state(data["a"])["placement"]["nodes"]
for _ in range(8):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
for n in ("a", "c"):
    wait_for(lambda: cluster_state(data[n]).get("placement", {}).get("nodes") == placement, timeout=60,
             what=f"{n} placing by the placement after the kill: {cluster_state(data[n]).get('placement')}")
    wait_for(lambda: cluster_state(data[n]).get("backfill", {"done": True}).get("done"), timeout=60,
             what=f"{n} storing the outputs its backfill owes: {cluster_state(data[n]).get('backfill')}")
    wait_for(lambda: scans_ingested(data[n]) == scans.sent, timeout=30, what=f"{n} ingesting all {scans.sent} scans")
# The last outputs reach the subscriber before the processes stop.
time.sleep(0.5)
computed = {n: set(cluster_state(data[n])["placement"]["computed"]) for n in ("a", "c")}
stop_cleanly(procs, logs, ("a", "c"), placed.stop_receiving)
check_received(placed.outputs, data["a"], wd, scans.sent, NAMES, [moved])
for n in ("c", "a"):
    check_dir_parity(wd, data[n], n, computed[n])
placed.cluster.down()
print(f"ok: {scans.sent} scans; {moved} moved from c to b, b killed as it restarted for it; b's nodes placed "
      f"{took:.2f} s after the kill: {placement}")
