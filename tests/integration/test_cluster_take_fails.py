"""Cluster mode, the active process fails to take a dead standby's nodes while it runs (issue 14):
two processes of one engine ([cluster] members = 2) fed over ZeroMQ in bursts, the active one
with the failpoint take_fail (SHOAL_FAILPOINTS, runtime/engine/failpoints.hpp): its take of the
nodes of killed standby b fails before it joins the live graph, as when a store write fails.
Checked:
  - a's log says it could not take them and that they are not published until it restarts;
    admin `cluster` places them on a but lists them in `placement.unpublished`; a publishes none
    of them while it runs on, ingesting every scan;
  - a, stopped cleanly and started again on its dir (no failpoint), takes them at its start as a
    heir does, from b's checkpoint in the cluster: the list empties, and the subscriber has
    every seq of b's nodes from b and then from a, without a gap to the last seq a replay of
    a's journal has and with no seq twice with other bytes; a's store equals that replay."""
import os
import signal
import subprocess

from cluster_harness import (TWO_CHAINS_NAMES, check_stored, cluster_state, feed_backfill_and_stop,
                             feed_until_checkpointed, kill_and_feed_until, placed_two_chains, scans_ingested)
from harness import check, start, wait_for

TTL_S = 2
os.environ["SHOAL_FAILPOINTS"] = "take_fail"  # the processes started now: a's take fails
placed = placed_two_chains(("a", "b"), "tf", TTL_S)
del os.environ["SHOAL_FAILPOINTS"]
wd, cfgs, data, logs, procs, instance, owned, scans = (placed.wd, placed.cfgs, placed.data, placed.logs, placed.procs,
                                                       placed.instance, placed.owned, placed.scans)
outputs, stop_receiving = placed.outputs, placed.stop_receiving
check(owned["b"], f"b has no node of its own: {owned}")
for _ in range(6):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["b"])

failed = f"could not take the {len(owned['b'])} node(s) placed on it while it runs: failpoint take_fail"
kill_and_feed_until(procs, ["b"], scans, lambda: failed in open(logs["a"]).read(), "a's take did not fail", logs["a"])
check("they are not published until it is restarted" in open(logs["a"]).read(), "a's log")
state = cluster_state(data["a"])["placement"]
check(set(state["nodes"].values()) == {instance["a"]}, f"a's placement after b died: {state}")
check(sorted(state["unpublished"]) == owned["b"], f"a lists {state['unpublished']} unpublished, b had {owned['b']}")
check("handed_restore" not in state, f"a says it took them: {state}")
for _ in range(6):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
check(sorted(cluster_state(data["a"])["placement"]["unpublished"]) == owned["b"], "the list while a runs on")
check(all(outputs.last_from("a", n) == 0 for n in owned["b"]),
      f"a published b's nodes: {[(n, outputs.last_from('a', n)) for n in owned['b']]}")

# a again on its dir, without the failpoint: its start takes them from b's checkpoint.
procs["a"].send_signal(signal.SIGTERM)
check(procs["a"].wait(timeout=60) == 0, f"a did not stop cleanly: {open(logs['a']).read()[-3000:]}")
placed.subscribed.drain()
procs["a"] = start(["run", cfgs["a"], "--data", data["a"]], stdout=subprocess.DEVNULL,
                   stderr=open(logs["a"] + ".2", "w"))
placed.subscribed()
wait_for(lambda: cluster_state(data["a"]).get("placement", {}).get("unpublished") == [], timeout=60,
         what=f"a, started again, publishing b's nodes: {open(logs['a'] + '.2').read()[-3000:]}")
restore = cluster_state(data["a"])["placement"].get("handed_restore", {})
check(restore.get("from") == instance["b"] and "why_not" not in restore and not restore.get("while_running"),
      f"a's start did not take b's nodes from b's checkpoint: {restore}")
feed_backfill_and_stop(scans, data, procs, logs["a"] + ".2", "a", stop_receiving)
check_stored(outputs, data["a"], wd, scans.sent, TWO_CHAINS_NAMES, owned["b"], "a")
print(f"ok: {scans.sent} scans; a's take of b's nodes {owned['b']} failed and they stayed listed unpublished; "
      f"a's next start took them from b's checkpoint at journal record {restore.get('journal_pos')}")
