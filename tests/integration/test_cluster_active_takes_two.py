"""Cluster mode, the active process takes the nodes of two standbys that die at once (issue 14):
three processes of one engine ([cluster] members = 3, checkpoints in the cluster) fed over ZeroMQ
in bursts; standbys b and c are killed together, so no standby is left and the active process a
takes every node while it runs. When a finds both gone in one listing, it brings each share
forward from its own process's checkpoint; when it finds one gone first, that one's nodes are
placed on the other (dead too), and a then takes them all from that process's checkpoint or,
when it lacks one of them, from the journal's start. Either way (the run prints which):
  - a's placement puts every node on a, and a never restarted;
  - with both checkpoints, admin `placement.handed_restore.checkpoints` names b and c;
  - a subscriber of every endpoint sees each node with no gap to the last seq a single-process
    replay has, and no seq twice with different bytes;
  - a's stored outputs of every node, once backfilled, equal a single process replaying its
    journal."""

from cluster_harness import (TWO_CHAINS_NAMES, check_stored, cluster_state, feed_backfill_and_stop,
                             feed_until_checkpointed, kill_and_feed_until, placed_two_chains, scans_ingested)
from harness import check, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
placed = placed_two_chains(("a", "b", "c"), "a2", TTL_S)
wd, data, logs, procs, instance, owned, scans = placed.wd, placed.data, placed.logs, placed.procs, placed.instance, placed.owned, placed.scans
outputs, stop_receiving = placed.outputs, placed.stop_receiving
check(owned["b"] and owned["c"], f"b or c has no node of its own: {owned}")
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["b", "c"])



def all_taken():
    p = cluster_state(data["a"]).get("placement", {})
    return (p.get("handed_restore", {}).get("while_running") and set(p["nodes"].values()) == {instance["a"]}
            and p.get("unpublished") == [])


taken_after = kill_and_feed_until(procs, ["b", "c"], scans, all_taken, "a did not take b's and c's nodes", logs["a"])
restore = cluster_state(data["a"])["placement"]["handed_restore"]
froms = sorted(cp["from"] for cp in restore.get("checkpoints", []))
log_a = open(logs["a"]).read()
# Found one at a time, the first one's nodes went to the other before a took them all.
both = not any(f"of its nodes go to {instance[n]}" in log_a for n in ("b", "c"))
if both:
    check("why_not" not in restore and froms == sorted([instance["b"], instance["c"]]),
          f"a found b and c gone at once but did not take their nodes from both checkpoints: {restore}")
    for n in ("b", "c"):
        check(f"while it runs, from {instance[n]}'s checkpoint" in log_a, f"a's log: {log_a[-3000:]}")
else:
    check(restore.get("from") in (instance["b"], instance["c"]), f"a took them from neither b nor c: {restore}")
check("restarting on data dir" not in log_a, f"a restarted: {log_a[-3000:]}")
feed_backfill_and_stop(scans, data, procs, logs["a"], "a", stop_receiving)

check_stored(outputs, data["a"], wd, scans.sent, NAMES, owned["b"] + owned["c"], "a")
how = (f"from both checkpoints at journal records {[cp['journal_pos'] for cp in restore['checkpoints']]}" if both
       else f"found one at a time, from {restore['from']} ({restore.get('why_not', 'its checkpoint')})")
print(f"ok: {scans.sent} scans; b's nodes {owned['b']} and c's {owned['c']} taken by a {taken_after:.2f} s after "
      f"the kills, {how}, live from {restore['to']} ({restore['ms']} ms)")
