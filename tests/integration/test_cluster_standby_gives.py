"""Cluster mode, a standby that joins gets nodes from a placed standby too (issue 14): three
processes of one engine ([cluster] members = 3, checkpoints in the cluster) fed over ZeroMQ in
bursts. Standby c is killed: its nodes go to standby b, which restarts to take them, so b computes
two shares. c starts again on its dir, a standby outside the placement; the active process a
places some nodes on it, and they come from b, the costliest process (its costs scaled by a
failpoint, so that it is). Checked:
  - the placement keeps every node where it was or puts it on c, and c has some of b's;
  - b does not restart for it (it computes what it gives): its log says it gives them, and admin
    `placement.gave` on b says after which seq it stopped publishing each, once c said it
    published it; b then computes only its remaining share and what that reads (admin
    `placement.computed`, `gave.no_longer_computed`);
  - b publishes none of them for the last 150 scans, c publishes them to the end;
  - c killed: its nodes go back to b, which restarts to take them (it had cut them);
  - c started again stuck (failpoint join_stall: it never restarts placed): b (and perhaps a) gives
    it nodes again and goes on publishing and computing them; c killed: each giver has them back
    without a restart or a take;
  - a subscriber of every endpoint sees each node with no gap to the last seq a single-process
    replay of a's journal has, and no seq twice with different bytes."""
import os
import subprocess
import time

from cluster_harness import (TWO_CHAINS_NAMES, check_received, cluster_state, feed_until_checkpointed,
                             kill_and_feed_until, last_seq, last_seqs, node_events, placed_two_chains, scans_ingested,
                             settled, two_chains_computed)
from harness import check, start, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
# b reports its nodes' measured costs 1000 times over (failpoint cost_scale): the costliest
# process, whatever this machine's load makes of the others' (a's share measured costlier than b's
# two shares once, and a gave instead).
placed = placed_two_chains(("a", "b", "c"), "sg", TTL_S, envs={"b": {"SHOAL_FAILPOINTS": "cost_scale=1000"}})
wd, data, logs, procs, instance, owned, scans = (placed.wd, placed.data, placed.logs, placed.procs, placed.instance,
                                                 placed.owned, placed.scans)
outputs, stop_receiving, cfgs = placed.outputs, placed.stop_receiving, placed.cfgs
check(owned["b"] and owned["c"], f"b or c has no node of its own: {owned}")
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["c"])


def b_took_c():
    p = cluster_state(data["b"]).get("placement", {})
    return all(p.get("nodes", {}).get(n) == instance["b"] for n in owned["c"]) and "handed_restore" in p


kill_and_feed_until(procs, ["c"], scans, b_took_c, lambda: f"b did not take c's nodes: {cluster_state(data['b'])}",
                    logs["b"], timeout=60)
b_nodes = sorted(owned["b"] + owned["c"])
for _ in range(4):
    scans.burst(25)

# c again, on its dir: a standby outside the placement, given nodes of b.
back = time.monotonic()
procs["c"] = start(["run", cfgs["c"], "--data", data["c"], "--standby"], stdout=subprocess.DEVNULL,
                   stderr=open(logs["c"] + ".2", "w"))


def b_gave():
    return cluster_state(data["b"]).get("placement", {}).get("gave", {})


while "ms" not in b_gave():  # a places nodes on c, c restarts placed and says it publishes them
    check(time.monotonic() - back < 90, f"b did not give c nodes: a: {cluster_state(data['a']).get('placement')}\n"
                                        f"b: {cluster_state(data['b']).get('placement')}\n"
                                        f"{open(logs['c'] + '.2').read()[-3000:]}")
    scans.burst(5)
gave_after = time.monotonic() - back
placement = cluster_state(data["a"])["placement"]
gave = b_gave()
check(gave["to"] == instance["c"] and instance["c"] in placement["members"], f"a's placement: {placement}, b gave {gave}")
on_c = sorted(n for n, p in placement["nodes"].items() if p == instance["c"])
from_b = sorted(set(on_c) & set(b_nodes))
check(from_b and sorted(gave["nodes"]) == from_b, f"b gave {gave['nodes']}, the placement puts {on_c} on c")
check(all(placement["nodes"][n] in (instance[w], instance["c"]) for w in ("a", "b") for n in NAMES
          if n in (owned["a"] if w == "a" else b_nodes)), f"a node went elsewhere than c: {placement}")
check(any(placement["nodes"][n] == instance["b"] for n in b_nodes), f"b kept no node: {placement}")
stopped = gave["stopped"]
# (c's first report may lie below the seq handed on, b's record of a second before: b had
# published that far anyway.)
check(sorted(stopped) == from_b and all(stopped[n] > 0 for n in from_b),
      f"b stopped publishing {stopped}, handed on {gave['handed']}")
log_b = open(logs["b"]).read()
check(log_b.count("restarting on data dir") == 1, f"b restarted for the give: {log_b[-3000:]}")
check(f"go to standby {instance['c']} joining the placement" in log_b, f"b's log: {log_b[-3000:]}")
# Once it cut them, b computes what it still publishes and what that reads, nothing more.
b_kept = [n for n in b_nodes if placement["nodes"][n] == instance["b"]]
computes_now = two_chains_computed(b_kept)
shed = sorted(two_chains_computed(b_nodes) - computes_now)
wait_for(lambda: sorted(cluster_state(data["b"]).get("placement", {}).get("computed", [])) == sorted(computes_now),
         timeout=10, what=f"b computing {sorted(computes_now)} only: {cluster_state(data['b']).get('placement')}")
at_shed = settled(lambda: node_events(data["b"]))
wait_for(at_shed, timeout=10, what="b's node counters")
events_at_shed = at_shed.last
check(sorted(b_gave().get("no_longer_computed", [])) == shed, f"b gave {b_gave()}, stopped computing {shed}?")
if shed:
    check("no longer computes" in open(logs["b"]).read(), f"b's log: {open(logs['b']).read()[-3000:]}")
for _ in range(6):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
# c follows the stream: it made the last of b's nodes' outputs (its seqs no longer move once it took
# every scan) and published them.
c_made = settled(lambda: scans_ingested(data["c"]) == scans.sent and last_seqs(data["c"], from_b))
wait_for(c_made, timeout=30, what="c making b's nodes' last outputs")
wait_for(lambda: all(outputs.last_from("c", n) >= c_made.last[n] > stopped[n] for n in from_b), timeout=30,
         what=f"c publishing b's nodes to the end: {[(n, outputs.last_from('c', n)) for n in from_b]}, made {c_made.last}")
for n in from_b:
    last_b, last = outputs.last_from("b", n), outputs.last_from("c", n)
    check(stopped[n] <= last_b < last - 100, f"b published {n} to {last_b}, c said {stopped[n]}, c's last is {last}")
# What b no longer computes took no input since; what it computes took the 150 scans.
now_ = settled(lambda: node_events(data["b"]))
wait_for(now_, timeout=10, what="b's node counters")
events_now = now_.last
check(all(events_now[n] == events_at_shed[n] for n in shed) and
      all(events_now[n] > events_at_shed[n] for n in computes_now),
      f"b's nodes took {events_now} events, {events_at_shed} when it stopped computing {shed}")


def all_on_b():
    p = cluster_state(data["b"]).get("placement", {})
    return (p.get("nodes") == cluster_state(data["a"]).get("placement", {}).get("nodes") and
            all(p["nodes"].get(n) == instance["b"] for n in b_nodes) and
            instance["c"] not in p["nodes"].values())


# c killed again: b had cut the nodes it gave, so it restarts to take them (from c's checkpoint).
kill_and_feed_until(procs, ["c"], scans, all_on_b, lambda: f"b did not take c's nodes again: {cluster_state(data['b'])}",
                    logs["b"], timeout=60)
check(open(logs["b"]).read().count("restarting on data dir") == 2, "b took back what it had cut without a restart")
for _ in range(4):
    scans.burst(25)

# c again, stuck (failpoint join_stall): it never restarts placed, so b never cuts what it gives it,
# and when c dies b has them back without a restart. a's nodes now (one a gave c before went on
# to b with c's death, and b may give it again: that one goes back to b).
a_now = [n for n, v in cluster_state(data["a"])["placement"]["nodes"].items() if v == instance["a"]]
os.environ["SHOAL_FAILPOINTS"] = "join_stall"
procs["c"] = start(["run", cfgs["c"], "--data", data["c"], "--standby"], stdout=subprocess.DEVNULL,
                   stderr=open(logs["c"] + ".3", "w"))
del os.environ["SHOAL_FAILPOINTS"]
joined = f"go to standby {instance['c']} joining the placement"
stuck = time.monotonic()
while open(logs["b"]).read().count(joined) < 2:
    check(time.monotonic() - stuck < 90, f"b did not give stuck c nodes: {cluster_state(data['a']).get('placement')}")
    scans.burst(5)
for _ in range(4):
    scans.burst(25)
check("ms" not in b_gave() and not b_gave()["stopped"], f"b cut what it gave stuck c: {b_gave()}")
check(set(b_gave()["nodes"]) <= set(cluster_state(data["b"]).get("placement", {}).get("computed", [])),
      f"b stopped computing what it did not cut: {cluster_state(data['b'])['placement']}")
# (a may give c some of its own too: they go back to a when c dies, without a take.)
a_gave = [n for n in a_now if cluster_state(data["a"])["placement"]["nodes"][n] == instance["c"]]
kill_and_feed_until(procs, ["c"], scans, all_on_b, lambda: f"b did not get its nodes back: {cluster_state(data['b'])}",
                    logs["b"], timeout=60)
log_b = open(logs["b"]).read()
check("placed on it again: it goes on publishing them" in log_b and log_b.count("restarting on data dir") == 2,
      f"b restarted to take back what it had not cut: {log_b[-3000:]}")
if a_gave:
    check("which died before publishing them, are placed on it again" in open(logs["a"]).read(),
          f"a did not get back what it gave stuck c: {open(logs['a']).read()[-3000:]}")
for _ in range(4):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
wait_for(lambda: all(outputs.last_from("b", n) >= last_seq(data["b"], n) for n in b_nodes), timeout=30,
         what=f"b publishing its nodes to the end: {[(n, outputs.last_from('b', n)) for n in b_nodes]}")
time.sleep(0.3)  # the last messages in flight to the subscriber
stop_receiving()
check_received(outputs, data["a"], wd, scans.sent, NAMES, b_nodes)
print(f"ok: {scans.sent} scans; c's nodes {owned['c']} went to b; c back: given {from_b} of b's (and "
      f"{sorted(set(on_c) - set(from_b)) or 'none'} of a's) {gave_after:.2f} s after its start, b stopping after "
      f"{stopped}, {gave['ms']} ms after the placement, without a restart, then no longer computing {shed or 'none'}; "
      f"c killed: b took them back with a "
      f"restart (cut); c back stuck, then killed: b had them back without one"
      f"{f' (nor a, which gave c {a_gave} too)' if a_gave else ''}")
