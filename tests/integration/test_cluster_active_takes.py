"""Cluster mode, the active process takes a dead standby's nodes while it runs (issue 14): two
processes of one engine ([cluster] members = 2, checkpoints in the cluster) fed over ZeroMQ in
bursts. Standby b is killed: no other standby can take its nodes, so the active process a takes
them without a restart while the feed goes on. Checked:
  - a's placement puts every node on a; admin `cluster` `placement.handed_restore` says a took
    them while running, from b's checkpoint in the cluster (no rebuild from the journal's start),
    and its log says so; `placement.unpublished` is empty again and a never restarted;
  - every scan sent, also while a took the nodes, is in a's journal;
  - a subscriber of both endpoints sees b's nodes, from b and then from a alone, with no gap to
    the last seq a single-process replay has, and no seq twice with different bytes;
  - a's stored outputs of every node, once backfilled, equal a single process replaying its
    journal;
  - b started again on its dir (a standby outside the placement, publishing every node) joins
    while the feed goes on: a gives it some of its nodes (admin `placement.gave`, the placement
    names b, b's log says it restarts to compute them), publishes them until b's member record
    says b published them (`gave.stopped`: the seq b said), and none after, the feed going on;
    then a computes only its remaining share and what that reads (`placement.computed`);
    the subscriber has every seq of them to the end of the feed, those after the seq b said from
    b placed, with the same bytes as a's;
  - b killed again once it published them and put a checkpoint of its new share in the cluster
    (at once, not checkpoint_every later): a takes its nodes back while it runs from that
    checkpoint, and the subscriber still has every seq of every node, a's store equal to a
    replay."""
import subprocess
import time

from cluster_harness import (TWO_CHAINS_NAMES, OutputLog, check_stored, cluster_state, feed_backfill_and_stop,
                             feed_until_checkpointed, kill_and_feed_until, last_seqs, placed_two_chains,
                             node_events, scans_ingested, settled, two_chains_computed)
from harness import check, start, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
# What b publishes once back (every node, rebuilt from its start) is left out of `outputs`, which
# must have every seq from a alone until a gives b nodes; it goes to `b_again`. `everything` has
# all, for seqs with other bytes.
outputs, everything, b_again = OutputLog(), OutputLog(), OutputLog()
b_back = False


def on_message(name, frames):
    everything(name, frames)
    (b_again if name == "b" and b_back else outputs)(name, frames)


placed = placed_two_chains(("a", "b"), "at", TTL_S, on_message=on_message)
wd, cfgs, data, logs, procs, instance, owned, scans = (placed.wd, placed.cfgs, placed.data, placed.logs, placed.procs, placed.instance,
                                                       placed.owned, placed.scans)
stop_receiving = placed.stop_receiving
check(owned["b"], f"b has no node of its own: {owned}")
# b's nodes a computes as upstream copies of its own: when there are, their actors are replaced
# and wired again to a's running nodes (which depends on the placement, made afresh each run).
copies = sorted(set(owned["b"]) & set(cluster_state(data["a"])["placement"]["computed"]))
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["b"])



def took():
    return cluster_state(data["a"]).get("placement", {}).get("handed_restore", {}).get("while_running")


taken_after = kill_and_feed_until(procs, ["b"], scans, took,
                                  lambda: f"a did not take b's nodes: {cluster_state(data['a'])}", logs["a"])
state = cluster_state(data["a"])
restore = state["placement"]["handed_restore"]
check(set(state["placement"]["nodes"].values()) == {instance["a"]}, f"a after b died: {state['placement']}")
check("why_not" not in restore and restore["from"] == instance["b"] and restore["journal_pos"] > 0,
      f"a did not take b's nodes from b's checkpoint: {restore}")
check(state["placement"].get("unpublished") == [], f"a still lists unpublished nodes: {state['placement']}")
log_a = open(logs["a"]).read()
check(f"took the {len(owned['b'])} node(s) of {instance['b']} while it runs, from {instance['b']}'s checkpoint"
      in log_a, f"a's log: {log_a[-3000:]}")
check("restarting on data dir" not in log_a, f"a restarted: {log_a[-3000:]}")
for _ in range(6):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
wait_for(lambda: cluster_state(data["a"]).get("backfill", {"done": True}).get("done"), timeout=60,
         what=f"a storing the outputs of b's nodes before b's checkpoint: {cluster_state(data['a']).get('backfill')}")

# b again, on its dir: a standby outside the placement, which a gives some of its nodes.
b_back = True
back = time.monotonic()
# Its periodic checkpoints far apart: the one a takes the nodes back from is the one b makes at
# once when its share changes.
procs["b"] = start(["run", cfgs["b"], "--data", data["b"], "--standby", "--checkpoint-every", "100000"],
                   stdout=subprocess.DEVNULL,
                   stderr=open(logs["b"] + ".2", "w"))
wait_for(lambda: "is not in the placement" in open(logs["b"] + ".2").read(), timeout=60,
         what="b saying it is not in the placement")


def given():
    return cluster_state(data["a"]).get("placement", {}).get("gave")


while not given():  # the feed goes on meanwhile
    check(time.monotonic() - back < 60, f"a gave b no nodes: {cluster_state(data['a'])}\n"
                                        f"{open(logs['a']).read()[-3000:]}")
    scans.burst(5)
gave_after = time.monotonic() - back
while "ms" not in given():  # b restarting placed, and saying what it published: the feed goes on
    check(time.monotonic() - back < 90, f"a still publishes what it gave b: {given()}\n"
                                        f"{open(logs['b'] + '.2').read()[-3000:]}")
    scans.burst(5)
placement = cluster_state(data["a"])["placement"]
gave = placement["gave"]
check(gave["to"] == instance["b"] and instance["b"] in placement["members"], f"a's placement: {placement}")
gone_to_b = sorted(n for n, p in placement["nodes"].items() if p == instance["b"])
check(gone_to_b and sorted(gave["nodes"]) == gone_to_b and set(placement["nodes"].values()) == {instance["a"], instance["b"]},
      f"a gave b {gave['nodes']}, the placement says {placement['nodes']}")
handed = {n: placement["handed"][n] for n in gone_to_b}
stopped = gave["stopped"]
# (b's first report may lie below the seq handed on, when b lagged a by more than its report's
# delay: a had published that far anyway, and b publishes what comes after.)
check(sorted(stopped) == gone_to_b and all(stopped[n] > 0 for n in gone_to_b),
      f"a stopped publishing {stopped}, handed on {handed}")
log_a = open(logs["a"]).read()
check(f"standby {instance['b']} joined the placement" in log_a, f"a's log: {log_a[-3000:]}")
a_kept = [n for n, p in placement["nodes"].items() if p == instance["a"]]
wait_for(lambda: set(cluster_state(data["a"]).get("placement", {}).get("computed", [])) == two_chains_computed(a_kept),
         timeout=10, what=f"a computing {sorted(two_chains_computed(a_kept))} only: {cluster_state(data['a']).get('placement')}")
at_shed = settled(lambda: node_events(data["a"]))
wait_for(at_shed, timeout=10, what="a's node counters")
events_at_shed = at_shed.last
a_shed = sorted((given() or {}).get("no_longer_computed", []))  # it computed every node, b's taken
check(a_shed == sorted(set(NAMES) - two_chains_computed(a_kept)), f"a gave {given()}, kept {a_kept}")
wait_for(lambda: cluster_state(data["b"]).get("placement", {}).get("nodes", {}).get(gone_to_b[0]) == instance["b"],
         timeout=60, what=f"b restarting placed: {open(logs['b'] + '.2').read()[-3000:]}")
check("restarts on its data dir to compute them" in open(logs["b"] + ".2").read(), "b's log")
for _ in range(6):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
# b follows the stream: it made the last of its nodes' outputs (its seqs no longer move once it took
# every scan) and published them.
b_made = settled(lambda: scans_ingested(data["b"]) == scans.sent and last_seqs(data["b"], gone_to_b))
wait_for(b_made, timeout=30, what="b making its nodes' last outputs")
wait_for(lambda: all(b_again.last_from("b", n) >= b_made.last[n] > handed[n] for n in gone_to_b), timeout=30,
         what=f"b publishing its nodes to the end: {[(n, handed[n], b_again.last_from('b', n)) for n in gone_to_b]}")
a_stopped_at = {n: (outputs.last_from("a", n), b_again.last_from("b", n)) for n in gone_to_b}
# What a no longer computes took no input since; what it computes took the 150 scans.
now_ = settled(lambda: node_events(data["a"]))
wait_for(now_, timeout=10, what="a's node counters")
events_now = now_.last
check(all(events_now[n] == events_at_shed[n] for n in a_shed) and
      all(events_now[n] > events_at_shed[n] for n in two_chains_computed(a_kept)),
      f"a's nodes took {events_now} events, {events_at_shed} when it stopped computing {a_shed}")
wait_for(lambda: cluster_state(data["b"]).get("checkpoint", {}).get("uploads", 0) >= 1, timeout=30,
         what=f"b's checkpoint of its new share in the cluster: {cluster_state(data['b']).get('checkpoint')}")

# b killed again: a takes what it gave back, while it runs.


def took_back():
    s = cluster_state(data["a"]).get("placement", {})
    return (set(s.get("nodes", {}).values()) == {instance["a"]} and s.get("unpublished") == [] and
            s.get("handed_restore", {}).get("to", 0) > restore["to"])


took_back_after = kill_and_feed_until(procs, ["b"], scans, took_back, "a did not take back b's nodes", logs["a"])
back = cluster_state(data["a"])["placement"]["handed_restore"]
check(back["from"] == instance["b"] and "why_not" not in back,
      f"a did not take b's nodes back from b's checkpoint of its new share: {back}")
feed_backfill_and_stop(scans, data, procs, logs["a"], "a", stop_receiving, bursts=4)

check(not everything.clashes, f"a seq came with different bytes: {everything.clashes[:5]}")
# a published what it gave to the seq b said at least, and stopped (the feed went on for 150 scans);
# every seq after it comes from b placed (it said so after its restart).
for n in gone_to_b:
    last_a, last = a_stopped_at[n]
    check(stopped[n] <= last_a < last - 100, f"a published {n} to {last_a}, b said {stopped[n]}, b's last is {last}")
    for (topic, seq), entry in list(b_again.seen.items()):
        if topic == n and seq > stopped[n]:
            outputs.seen[(topic, seq)] = entry
check_stored(outputs, data["a"], wd, scans.sent, NAMES, owned["b"], "a")
print(f"ok: {scans.sent} scans; b's nodes {owned['b']} taken by a {taken_after:.2f} s after b's kill, from b's "
      f"checkpoint at journal record {restore['journal_pos']}, live from {restore['to']} ({restore['ms']} ms); "
      f"upstream copies on a among them: {copies or 'none'}; b back: given {gone_to_b} {gave_after:.2f} s after "
      f"its start, handed on after {handed}; a stopped publishing them after {stopped}, {gave['ms']} ms after the "
      f"placement, then no longer computing {a_shed or 'none'}; b killed again: a took its nodes back {took_back_after:.2f} s after, from b's checkpoint at "
      f"journal record {back['journal_pos']} ({back['ms']} ms)")
