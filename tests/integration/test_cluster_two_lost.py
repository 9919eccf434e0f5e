"""Cluster mode, two placed processes lost at once (issue 14, acceptance 2), as when a host running
both the active process and a standby dies: three processes of one engine ([cluster] members =
3, checkpoints in the cluster) fed over ZeroMQ in bursts. The active process a is frozen
(SIGSTOP), so it never sees b go, then standby b and a are killed. Standby c takes the lease,
restarts as the active process and places every node on itself: a's nodes and b's, each handed
from its own process. Checked:
  - c starts them from both checkpoints in the cluster, each brought forward to its own (no
    rebuild from the journal's start): admin `cluster` `placement.handed_restore.checkpoints`
    names a and b, and the log says so for each. (When b's key outlives a's lease, c places b's
    nodes on b at its start, and takes them from b's checkpoint while it runs once b's key has
    expired, from b's checkpoint or, when c's start placed one of a's nodes on b too, from the
    journal's start: the log has a's, admin the take of b's.)
  - a subscriber of the three endpoints sees every node's seqs with no gap to the last one a
    single-process replay has, and no seq twice with different bytes;
  - c's stored outputs of every node, once backfilled, equal a single process replaying its
    journal, and every scan sent is in it."""
import re
import signal
import time

from cluster_harness import (TWO_CHAINS_NAMES, check_stored, cluster_state, feed_backfill_and_stop,
                             feed_until_checkpointed, placed_two_chains, scans_ingested)
from harness import check, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
placed = placed_two_chains(("a", "b", "c"), "tl", TTL_S)
wd, data, logs, procs, instance, owned, scans = placed.wd, placed.data, placed.logs, placed.procs, placed.instance, placed.owned, placed.scans
outputs, subscribed, stop_receiving = placed.outputs, placed.subscribed, placed.stop_receiving
check(owned["a"] and owned["b"], f"a or b has no node of its own: {owned}")
for _ in range(10):
    scans.burst(25)
# Both put a checkpoint in the cluster, then c makes one of its own after them.
feed_until_checkpointed(scans, data, ["a", "b"])
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
wait_for(lambda: cluster_state(data["a"]).get("lag", 1) == 0, timeout=30, what="the journal all in the cluster")
# c has taken all of it, so its own checkpoint is at the last boundary a and b checkpointed at.
wait_for(lambda: cluster_state(data["c"]).get("followed", 0) >= cluster_state(data["a"])["committed"], timeout=30,
         what="c following the whole journal")

# a is frozen first, so it never sees b's key expire (it would hand b's nodes on alone); then both
# die. c takes a's lease and places only once b's key has expired too (its start waits for
# standbys that are there).
procs["a"].send_signal(signal.SIGSTOP)
procs["b"].send_signal(signal.SIGKILL)
procs["a"].send_signal(signal.SIGKILL)
for n in ("a", "b"):
    procs[n].wait(timeout=10)
subscribed()
wait_for(lambda: "restarts as the active process" in open(logs["c"]).read(), timeout=30,
         what="c taking the lease")
wait_for(lambda: cluster_state(data["c"]).get("role") == "active", timeout=30, what="c answering as active")
# b's key may outlive a's lease by up to a third of heartbeat_ttl: c then places b's nodes on b at
# its start, finds b gone a moment later and takes them while it runs (test_cluster_active_takes).
all_on_c_by = time.monotonic() + 30
def all_on_c():
    """Every node placed on c and published by it: none being taken."""
    p = cluster_state(data["c"]).get("placement", {})
    return set(p.get("nodes", {"": ""}).values()) == {instance["c"]} and p.get("unpublished") == []


while not all_on_c():
    check(time.monotonic() < all_on_c_by, f"c after a and b died: {cluster_state(data['c']).get('placement')}")
    scans.burst(5)
restore = cluster_state(data["c"])["placement"].get("handed_restore", {})
log_c = open(logs["c"]).read()
as_active = log_c[log_c.index("restarts as the active process"):]
froms = sorted(cp["from"] for cp in restore.get("checkpoints", []))
at_start = not restore.get("while_running")
if at_start:
    check("why_not" not in restore and froms == sorted([instance["a"], instance["b"]])
          and "rebuilds every node" not in as_active,
          f"c did not start a's and b's nodes from their checkpoints: {restore}\n{as_active[-3000:]}")
    for n in ("a", "b"):
        check(f"handed to this process start from {instance[n]}'s checkpoint" in as_active,
              f"c's log does not say it started {n}'s nodes from {n}'s checkpoint: {as_active[-3000:]}")
else:
    # From b's checkpoint, or from the journal's start when c's start placed one of a's nodes on b
    # too (b's checkpoint never held it). c's start took a's nodes it placed on itself from a's
    # checkpoint; by measured cost it may have placed them all on b.
    placed_here = re.search(r"this one \(\S+\) publishes (\d+) of them", as_active)
    some_of_a = placed_here is None or int(placed_here.group(1)) > len(owned["c"])
    check(restore["from"] == instance["b"] and
          (not some_of_a or f"handed to this process start from {instance['a']}'s checkpoint" in as_active),
          f"c did not start a's nodes from a's checkpoint, then take b's: {restore}\n{as_active[-3000:]}")
feed_backfill_and_stop(scans, data, procs, logs["c"], "c", stop_receiving)

check_stored(outputs, data["c"], wd, scans.sent, NAMES, owned["a"] + owned["b"], "c")
how = (f"started from their checkpoints at journal records {[cp['journal_pos'] for cp in restore['checkpoints']]}, "
       f"brought to {restore['to']} in {restore['ms']} ms" if at_start else
       f"a's at c's start, b's taken while c ran (b's key outlived a's lease), from journal record "
       f"{restore['journal_pos']} ({restore.get('why_not', 'its checkpoint')}), live from {restore['to']} in "
       f"{restore['ms']} ms")
print(f"ok: {scans.sent} scans; a's nodes {owned['a']} and b's {owned['b']} went to c, {how}")
