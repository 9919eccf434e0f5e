"""Cluster mode, a placed process killed (issue 14, acceptance 2 for placed nodes), fed as users
feed it: three JetStream servers and three processes of one engine ([cluster] members = 3) whose
only source is a ZeroMQ feed (a `time = "auto"` scan stream: its time mode is journaled with the
first scan and must not keep the graph from being placed), sent in bursts by this test. Mid-feed
one placed standby is killed with SIGKILL. Checked:
  - the active process moves its nodes (admin `cluster` no longer places any on it) within
    2 x heartbeat_ttl of the kill, onto the other standby (the active process takes none);
  - that standby restarts on its data dir and starts the handed nodes from the checkpoint the
    killed one put in the cluster, brought forward to its own checkpoint (no rebuild from the
    journal's start) — also a node it held as an upstream copy (stored, never published) — and
    publishes them from the seq handed on;
  - a subscriber of all three endpoints sees, for every node, seqs with no gap from its first
    to the last one a single-process replay has, and no seq twice with different bytes;
  - then the active process is killed once it put a checkpoint in the cluster (every scan
    journaled and replicated): the heir takes the lease, restarts as the active process with
    every node placed on it, starts its sources, then starts the dead one's nodes from that
    checkpoint (no rebuild), publishes them after the seq the dead one last reported (its key
    expired meanwhile: the heir read it while a standby), and ingests the feed;
  - every scan sent is in the journal, and the last process's stored outputs of every node are
    byte-identical to a single process replaying that journal (once the nodes handed to it are
    backfilled; the outputs the first heir made once live of the nodes handed to it are checked
    on its snapshot endpoint before);
  - with [cluster] stream_outputs, the stream holds every node's outputs through both kills, each
    seq once and in order from 1, as the single process made them: `shoal tail --from-stream`
    reads them back, and no process counted a gap."""
import json
import os
import re
import signal
import time

import msgpack
import zmq

from cluster_harness import (TWO_CHAINS, TWO_CHAINS_NAMES, OutputLog, ScanBursts, check_received, cluster_state,
                             local_cluster, placed_engines, receive_from_all, scans_ingested, start_placed)
from harness import bound_feed, check, check_parity, free_port, run, wait_for, workdir

TTL_S = 2
ASSETS = [f"A{i}" for i in range(8)]
wd = workdir()
cluster = local_cluster(wd)
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
NODES, NAMES = TWO_CHAINS, TWO_CHAINS_NAMES

snapshot_ports = {n: free_port() for n in ("a", "b", "c")}
cfgs, ports, data, logs = placed_engines(wd, cluster, feed_ep, ("a", "b", "c"), NODES, "pf", TTL_S,
                                        stream='time = "auto"',
                                        engine=lambda n: f'snapshot = "tcp://127.0.0.1:{snapshot_ports[n]}"')
for n in cfgs:  # [cluster] is the configs' last table: the checkpoints of a process gone for good
    open(cfgs[n], "a").write('checkpoint_retention = "10s"\nstream_outputs = true\n')
# Every output each endpoint carries.
outputs = OutputLog()
stop_receiving = receive_from_all(ctx, ports, outputs)
procs, first, instance, owned = start_placed(cfgs, data, logs, "a", subscribed)
check(sorted(first["nodes"]) == sorted(NAMES), f"every node placed: {first}")
check(owned["b"] and owned["c"], f"a standby has no node: {owned}")

scans = ScanBursts(feed, ASSETS)
burst = scans.burst


for _ in range(10):
    burst(25)


def restart_all_fresh():
    """Every node restarted cold through the active process: journaled, applied by every process
    at that journal position, and by a heir going through the journal without the actor graph
    (bringing a checkpoint forward, storing the outputs before it): their outputs after it differ
    from those of nodes never restarted, so a heir that skipped it would not match."""
    for node in NAMES:
        r = run(["admin", "--socket", os.path.join(data["a"], "shoal.sock"), "restart", node, "--fresh"])
        check(r.returncode == 0, f"restart {node} --fresh: {r.stdout}{r.stderr}")


restart_all_fresh()
for _ in range(2):
    burst(25)


# Each standby measures what its nodes cost (kernel seconds per input event, once its streams
# took 200) and says so in its member record: the active process places a lost process's nodes
# by it.
def costs_listed():
    ms = {m["instance"]: m.get("costs", {}) for m in cluster_state(data["a"]).get("members", [])}
    return all(set(owned[n]) <= set(ms.get(instance[n], {})) for n in ("b", "c"))


listed_by = time.monotonic() + 30
while not costs_listed():  # event time must advance meanwhile
    check(time.monotonic() < listed_by, f"no measured costs in the members: {cluster_state(data['a'])}")
    burst(25)
# Kill, where there is one, a standby owning both a node the other holds as an upstream copy
# (stored, never published: only the handed seq keeps its subscribers from a gap) and one the
# other never computed (its outputs before the checkpoint are stored once the heir is live);
# else one with either, else the one with more nodes.
computed = {n: set(cluster_state(data[n])["placement"]["computed"]) for n in ("b", "c")}
copies = {n: set(owned[n]) & computed["c" if n == "b" else "b"] for n in ("b", "c")}
new_to_heir = {n: set(owned[n]) - computed["c" if n == "b" else "b"] for n in ("b", "c")}
victim = max(("b", "c"), key=lambda n: (bool(copies[n]) + bool(new_to_heir[n]), len(owned[n]), n))
heir = "c" if victim == "b" else "b"
# A placed process's checkpoint goes to the cluster once its member record says it published
# what the checkpoint made (every 100 buckets here): a periodic one, not the first, which a share
# new to its dir makes at its first record (the heir would then bring forward nearly nothing).
uploaded_by = time.monotonic() + 60
while cluster_state(data[victim]).get("checkpoint", {}).get("uploads", 0) < 2:
    check(time.monotonic() < uploaded_by, f"{victim} put no checkpoint in the cluster: {cluster_state(data[victim])}")
    burst(25)
# After that checkpoint: the heir brings it forward through this restart. 125 buckets more give
# the heir a checkpoint of its own after it, in well under the time the victim's next one takes
# to go to the cluster (a member record two writes old must cover it).
restart_all_fresh()
for _ in range(5):
    burst(25)
procs[victim].send_signal(signal.SIGKILL)
killed_at = time.monotonic()
procs[victim].wait(timeout=10)


def moved():
    p = cluster_state(data["a"]).get("placement", {})
    return p and instance[victim] not in p.get("members", [instance[victim]])


while not moved():  # the feed goes on meanwhile
    check(time.monotonic() - killed_at < 6 * TTL_S, f"the nodes of {victim} did not move")
    burst(5)
took = time.monotonic() - killed_at
after = cluster_state(data["a"])["placement"]
check(took <= 2 * TTL_S + 0.5, f"the nodes moved {took:.2f} s after the kill (heartbeat_ttl {TTL_S} s)")
for node in owned[victim]:
    check(after["nodes"][node] == instance[heir], f"{node} went to {after['nodes'][node]}, not {heir}: {after}")
for node in owned["a"] + owned[heir]:
    check(after["nodes"][node] == first["nodes"][node], f"{node} moved though its process lives: {after}")
check(all(after["costs"].get(node, -1) >= 0 for node in NAMES),
      f"the placement after the loss records what every node was measured to cost: {after}")
# The heir restarts with the feed quiet (a market closed): it puts a checkpoint of its new share
# in the cluster all the same, for its own heir (none of the share before would do).
wait_for(lambda: "restarting on data dir" in open(logs[heir]).read(), timeout=10,
         what=f"{heir} restarting to take the nodes of {victim}")
wait_for(lambda: cluster_state(data[heir]).get("placement", {}).get("nodes") == after["nodes"], timeout=60,
         what=f"{heir} back with the new placement")
restored = cluster_state(data[heir])["placement"].get("handed_restore", {})
check(restored.get("from") == instance[victim] and "why_not" not in restored
      and 0 < restored["journal_pos"] <= restored["to"],
      f"{heir} did not start the handed nodes from {victim}'s checkpoint: {restored}\n"
      f"{open(logs[heir]).read()[-3000:]}")
heir_log = open(logs[heir]).read()
check(re.search(rf"the {len(owned[victim])} node\(s\) handed to this process start from {instance[victim]}'s "
                r"checkpoint", heir_log) and "rebuilds every node" not in heir_log, f"{heir}'s log: {heir_log[-3000:]}")
# The second cold restart (journaled after that checkpoint) was brought forward: applied there,
# not skipped (the states checked at the heir's own checkpoint would differ otherwise).
bringing = heir_log[heir_log.index("restarting on data dir"):heir_log.index("to this process start from")]
check("restarted fresh" in bringing, f"{heir} brought the checkpoint forward past no restart: {bringing[-2000:]}")
wait_for(lambda: cluster_state(data[heir]).get("checkpoint", {}).get("uploads", 0) >= 1, timeout=30,
         what=f"{heir}'s checkpoint of its new share in the cluster, the feed quiet: "
              f"{cluster_state(data[heir]).get('checkpoint')}")
for _ in range(10):
    burst(25)
for _ in range(4):
    burst(25)
# Once live, it makes the outputs of the handed nodes it never computed before that checkpoint
# (its store lacked them) from the journal's start: stored, not published. Its snapshot endpoint
# then serves each from seq 1, the bytes its subscribers had from the killed process.
backfilled = sorted(set(owned[victim]) - computed[heir])
if backfilled:
    wait_for(lambda: cluster_state(data[heir]).get("backfill", {}).get("done"), timeout=60,
             what=f"{heir} storing the outputs of {backfilled} before {victim}'s checkpoint: "
                  f"{cluster_state(data[heir]).get('backfill')}")
for node in backfilled:
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(f"tcp://127.0.0.1:{snapshot_ports[heir]}")
    req.send(msgpack.packb({"topic": node, "n": 100_000}))
    check(req.poll(10_000), f"no answer from {heir}'s snapshot endpoint")
    answer = msgpack.unpackb(req.recv(), raw=False, strict_map_key=False)
    req.close()
    check(answer.get("ok"), f"snapshot of {node}: {answer}")
    seqs = [o["seq"] for o in answer["outputs"]]
    check(seqs and seqs == list(range(1, len(seqs) + 1)),
          f"{heir} stores {node} as seqs {seqs[:3]}..{seqs[-3:]}, not from 1 without a gap")
    compared = 0
    for o in answer["outputs"]:
        if (node, o["seq"]) in outputs.seen:
            check(msgpack.unpackb(outputs.seen[(node, o["seq"])][0], raw=False, strict_map_key=False) == o,
                  f"{node} seq {o['seq']}: {heir} stored other bytes than {victim} published")
            compared += 1
    check(compared > 0, f"nothing of {node} to compare")


# Then the active process dies too, every scan journaled and in the cluster (a PUB/SUB feed has no
# acks: what it sends to a dead process is lost). The heir, a placed standby, takes the lease,
# starts again as the active process, places the nodes on itself (the only one left), rebuilds
# those it lacked and subscribes to the feed.
# The victim is gone for good: 10 s after the active process last saw it listed or placed, its
# checkpoint leaves the cluster (the heir read it long before).
wait_for(lambda: instance[victim] in cluster_state(data["a"]).get("checkpoint_sweep", {}).get("removed", []),
         timeout=60, what=f"a removing {victim}'s checkpoint: {cluster_state(data['a']).get('checkpoint_sweep')}")
check(instance[heir] not in cluster_state(data["a"])["checkpoint_sweep"]["removed"], "a removed a live one's checkpoint")
# Its share's checkpoint goes to the cluster under its own name once its member record covers it;
# the heir, as the next active process, starts a's nodes from there.
uploaded_by = time.monotonic() + 60
while cluster_state(data["a"]).get("checkpoint", {}).get("uploads", 0) < 2:  # a periodic one
    check(time.monotonic() < uploaded_by, f"a put no checkpoint in the cluster: {cluster_state(data['a'])}")
    burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"the active process ingesting all {scans.sent} scans")
wait_for(lambda: cluster_state(data["a"]).get("lag", 1) == 0, timeout=30, what="the journal all in the cluster")
procs["a"].send_signal(signal.SIGKILL)
a_killed = time.monotonic()
procs["a"].wait(timeout=10)
subscribed()
became_active = time.monotonic() - a_killed
check("restarts as the active process" in open(logs[heir]).read(), f"{heir}: {open(logs[heir]).read()[-3000:]}")
wait_for(lambda: cluster_state(data[heir]).get("role") == "active", timeout=10, what=f"{heir} answering as active")
state = cluster_state(data[heir])
check(set(state["placement"]["nodes"].values()) == {instance[heir]}, f"{heir} after the active process died: {state}")
# It placed with the lease its follower took (not one acquired anew), and holds it.
check(state["lease"] == state["placement"]["holder"] != first["holder"], f"{heir}'s lease: {state}")
# The dead active process's key has most likely expired before the heir placed; what it said it
# published, as the heir read it while a standby, goes with its nodes all the same: the heir
# publishes them from there, not from their first seq again.
handed_by_a = {node: state["placement"]["handed"].get(node, 0) for node in owned["a"]}
check(owned["a"] and all(seq > 0 for seq in handed_by_a.values()),
      f"{heir} took a's nodes without a's last report: {handed_by_a} ({state['placement']})")
# It started them from the checkpoint a put in the cluster under its own name, brought forward to
# its own, once its sources ran (a feed journaled meanwhile): no rebuild of every node from the
# journal's start.
as_active = open(logs[heir]).read()
as_active = as_active[as_active.index("restarts as the active process"):]
from_a = state["placement"].get("handed_restore", {})
check(from_a.get("from") == instance["a"] and "why_not" not in from_a and "rebuilds every node" not in as_active,
      f"{heir} did not start a's nodes from a's checkpoint: {from_a}\n{as_active[-3000:]}")
check(as_active.index("start from " + instance["a"] + "'s checkpoint") > as_active.index("its sources journal what"),
      f"{heir} brought a's checkpoint forward before its sources started: {as_active[-3000:]}")
for _ in range(6):
    burst(25)
wait_for(lambda: scans_ingested(data[heir]) == scans.sent, timeout=30, what=f"{heir} ingesting all {scans.sent} scans")
wait_for(lambda: cluster_state(data[heir]).get("backfill", {"done": True}).get("done"), timeout=60,
         what=f"{heir} storing the outputs of the nodes handed to it: {cluster_state(data[heir]).get('backfill')}")
# Quiet: once the stream holds the journal, none of its outputs wait for it.
wait_for(lambda: cluster_state(data[heir]).get("outputs", {}).get("holds") == 0, timeout=30,
         what=f"{heir} holding no outputs for the journal's replication: {cluster_state(data[heir]).get('outputs')}")
final = cluster_state(data[heir])
procs[heir].send_signal(signal.SIGTERM)
check(procs[heir].wait(timeout=60) == 0, f"{heir} did not stop cleanly: {open(logs[heir]).read()[-3000:]}")
time.sleep(0.3)  # the last messages in flight to the subscriber
stop_receiving()

# What a subscriber of every endpoint saw: each node from its first seq to the last one the
# single process has, without a gap, and no seq with two different payloads.
single = check_received(outputs, data[heir], wd, scans.sent, NAMES, moved=owned[victim])

# The stream: every node's outputs from seq 1, each once, whichever process put them there (the
# killed ones, the heir), equal to the single process's.
check(final["outputs"]["gaps"] == 0 and final["outputs"]["nodes"] == len(NAMES), f"{heir}'s outputs: {final['outputs']}")
check(final["outputs"]["holds"] == 0 and final["outputs"]["reads"] > 0, f"{heir}'s outputs: {final['outputs']}")
in_stream = {}
for node in NAMES:
    want = [json.loads(line) for line in run(["export", single, "--outputs", "--node", node]).stdout.splitlines()]
    r = run(["tail", "--cluster", cfgs[heir], "--from-stream", "--json", "--count", str(len(want)), "--for", "30s",
             node])
    got = [json.loads(line) for line in r.stdout.splitlines()]
    check(r.returncode == 0 and "twice" not in r.stderr and "gap" not in r.stderr,
          f"tail --from-stream {node}: {r.returncode} {r.stderr}")
    check(want and got == want, f"{node} in the stream differs from the single process: {len(got)} of {len(want)} "
                                f"outputs, first difference at "
                                f"{next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))}")
    in_stream[node] = len(got)

# The heir published a's nodes after the seq handed on: nothing a reported it published came again
# from the heir.
for node, seq in handed_by_a.items():
    first_from_heir = min((s for (t, s), e in list(outputs.seen.items()) if t == node and heir in e[2]), default=0)
    check(first_from_heir > seq, f"{heir} published {node} from seq {first_from_heir}, handed on at {seq}")

# The last process's store against the single process: every node.
check(sorted(final["placement"]["computed"]) == sorted(NAMES), f"{heir} computes: {final['placement']}")
rows = check_parity(single, data[heir], f"{heir} differs from the single process")
check(set(NAMES + ["feed.scan"]) <= set(rows), f"{heir} lacks a node: {sorted(rows)}")
print(f"ok: {scans.sent} scans in bursts; {victim}'s nodes {owned[victim]} moved to {heir} {took:.2f} s after the "
      f"kill ({sorted(copies[victim])} upstream copies there); {heir} started them from {victim}'s checkpoint "
      f"at journal record {restored['journal_pos']}, brought to its own at {restored['to']} in {restored['ms']} ms; "
      f"the active process killed, {heir} ingested again "
      f"{became_active:.2f} s later; the stream holds {in_stream} outputs; measured costs (kernel µs per input event) "
      f"{ {k: round(v * 1e6, 2) for k, v in sorted(after['costs'].items())} }")
