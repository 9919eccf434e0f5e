"""Cluster mode, a placed standby stopped cleanly that does not come back (issue 14): three
processes of one engine ([cluster] members = 3, checkpoints in the cluster) fed over ZeroMQ in
bursts. Standby c gets SIGTERM after it put periodic checkpoints in the cluster and took more scans
since. Three times, each on a cluster of its own:

1. As it is. Checked:
  - c exits 0, and its stop's checkpoint goes to the cluster once its last member record says it
    published every output the checkpoint made (its log names the journal record S), later than
    its last periodic one;
  - its key expires heartbeat_ttl after the stop; the active process moves c's nodes to standby
    b, which restarts and starts them from the stop's checkpoint (admin
    `placement.handed_restore` at journal record S), not from the periodic one before it, and not
    from the journal's start.
2. With the failpoint stop_unread on every process: c's last member record says only what its
   last renewal did, as when the active process never read the stop's record, yet the stop's
   checkpoint goes to the cluster. c is stopped right after it took a last burst, so that checkpoint
   holds outputs past the seqs handed to b. Checked: b refuses it (past the seq handed on) and starts
   c's nodes from the checkpoint before it (the head names it), not from the journal's start.
3. As 2, with two processes (members = 2): no standby is left to take c's nodes, so the active
   process a takes them while it runs (engine_take.cpp), and falls back the same way.

Each time a subscriber of every endpoint sees every node's seqs with no gap to the last one a
single-process replay has, and no seq twice with different bytes; every scan sent is in the
journal, and the heir's stored outputs of every node it computes equal one process replaying its
journal."""
import os
import re
import signal
import time

from cluster_harness import (TWO_CHAINS_NAMES, check_dir_parity, check_received, cluster_state,
                             feed_until_checkpointed, placed_two_chains, scans_ingested, stop_cleanly)
from harness import check, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES


def stop_standby(unread, heir="b"):
    """Standby c stopped with SIGTERM; HEIR takes its nodes: standby b restarting, or the active
    process a while it runs (then b is not started: members = 2)."""
    os.environ.pop("SHOAL_FAILPOINTS", None)
    if unread:
        os.environ["SHOAL_FAILPOINTS"] = "stop_unread"
    names = ("a", "c") if heir == "a" else ("a", "b", "c")
    placed = placed_two_chains(names, "sc", TTL_S)
    wd, data, logs, procs, instance, owned, scans = (placed.wd, placed.data, placed.logs, placed.procs,
                                                     placed.instance, placed.owned, placed.scans)
    check(owned["c"], f"c has no node of its own: {owned}")
    for _ in range(10):
        scans.burst(25)
    feed_until_checkpointed(scans, data, ["c"])
    periodic = cluster_state(data["c"])["checkpoint"]["journal_pos"]
    for _ in range(3):  # c takes more than its last periodic checkpoint holds
        scans.burst(25)
    wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
    wait_for(lambda: cluster_state(data["c"]).get("followed", 0) >= cluster_state(data["a"])["committed"],
             timeout=30, what="c following the whole journal")
    if unread:
        # Outputs c makes in the last moment: the record two renewals back (what its last one
        # says with the failpoint) cannot say it published them.
        scans.burst(25, pause=0)
        wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what="a ingesting the last burst")
        wait_for(lambda: cluster_state(data["c"]).get("followed", 0) >= cluster_state(data["a"])["committed"],
                 timeout=30, what="c taking the last burst")

    procs["c"].send_signal(signal.SIGTERM)
    check(procs["c"].wait(timeout=60) == 0, f"c did not stop cleanly: {open(logs['c']).read()[-3000:]}")
    stopped_at = time.monotonic()
    c_log = open(logs["c"]).read()
    m = re.search(r"this process's checkpoint at journal record (\d+) went to the cluster at its stop", c_log)
    check(m, f"c's stop put no checkpoint in the cluster: {c_log[-3000:]}")
    stop_pos = int(m.group(1))
    check(stop_pos > periodic, f"c's stop checkpoint at {stop_pos}, not after its periodic one at {periodic}")

    def moved():
        p = cluster_state(data["a"]).get("placement", {})
        return p and instance["c"] not in p.get("members", [instance["c"]])

    while not moved():  # the feed goes on meanwhile
        check(time.monotonic() - stopped_at < 6 * TTL_S, f"the nodes of c did not move: {cluster_state(data['a'])}")
        scans.burst(5)
    after = cluster_state(data["a"])["placement"]
    for node in owned["c"]:
        check(after["nodes"][node] == instance[heir], f"{node} went to {after['nodes'][node]}, not {heir}: {after}")
    if heir == "a":
        wait_for(lambda: cluster_state(data["a"])["placement"].get("handed_restore", {}).get("while_running"),
                 timeout=30, what="a taking c's nodes while it runs")
    else:
        wait_for(lambda: "restarting on data dir" in open(logs["b"]).read(), timeout=10,
                 what="b restarting to take c's nodes")
        wait_for(lambda: cluster_state(data["b"]).get("placement", {}).get("nodes") == after["nodes"], timeout=60,
                 what="b back with the new placement")
    restored = cluster_state(data[heir])["placement"].get("handed_restore", {})
    heir_log = open(logs[heir]).read()
    check(restored.get("from") == instance["c"] and "why_not" not in restored and "rebuilds every node" not in heir_log,
          f"{heir} did not start c's nodes from c's checkpoints: {restored}\n{heir_log[-3000:]}")
    check(heir == "b" or "restarting on data dir" not in heir_log, f"a restarted: {heir_log[-3000:]}")
    fell_back = re.search(rf"{instance['c']}'s last checkpoint in the cluster does not do \((.*)\): its (handed )?"
                          r"node\(s\) start from the one before it, at journal record (\d+)", heir_log)
    if unread:
        check(fell_back and "past seq" in fell_back.group(1) and int(fell_back.group(3)) == restored["journal_pos"]
              and periodic <= restored["journal_pos"] < stop_pos,
              f"{heir} did not fall back from c's stop checkpoint at {stop_pos} to the one before: {restored}\n"
              f"{heir_log[-3000:]}")
    else:
        check(not fell_back and restored.get("journal_pos") == stop_pos,
              f"{heir} did not start c's nodes from c's stop checkpoint at journal record {stop_pos}: {restored}\n"
              f"{heir_log[-3000:]}")
    computed = set(cluster_state(data[heir])["placement"]["computed"])
    check(set(owned["c"]) <= computed, f"{heir} does not compute the nodes handed to it: {computed}")

    for _ in range(6):
        scans.burst(25)
    wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
    wait_for(lambda: cluster_state(data[heir]).get("backfill", {"done": True}).get("done"), timeout=60,
             what=f"{heir} storing the outputs its backfill owes: {cluster_state(data[heir]).get('backfill')}")
    if heir == "b":
        wait_for(lambda: cluster_state(data["b"]).get("followed", 0) >= cluster_state(data["a"])["committed"],
                 timeout=30, what="b following the whole journal")
    stop_cleanly(procs, logs, [n for n in names if n != "c"], placed.stop_receiving)
    check_received(placed.outputs, data["a"], wd, scans.sent, NAMES, owned["c"])
    # The heir's stored outputs of every node it computes (c's among them, made from c's checkpoint
    # and backfilled before it) against one process replaying its journal.
    check_dir_parity(wd, data[heir], heir, computed)
    placed.cluster.down()
    print(f"ok{' (stop_unread)' if unread else ''}: {scans.sent} scans; c stopped with its checkpoint at journal "
          f"record {stop_pos} (periodic one at {periodic}); {heir} took {owned['c']} from journal record "
          f"{restored['journal_pos']}")


stop_standby(unread=False)
stop_standby(unread=True)
stop_standby(unread=True, heir="a")
