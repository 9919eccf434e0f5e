"""Cluster mode, an operator moves a node from one placed standby to another while they run
(issue 14; admin `move`): three processes of one engine ([cluster] members = 3, checkpoints in
the cluster) fed over ZeroMQ in bursts. After c put checkpoints in the cluster, `shoal admin move
X b` on the active process a moves X, one of c's nodes, to standby b. Checked:
  - what cannot be moved is refused at once, saying why: asked of a standby, to the active
    process, to where it is, to a process that is not placed, a stream, an unknown node;
  - a's placement puts X on b and nothing else moves; admin `placement.move` says from where,
    to where and after which seq;
  - b restarts to compute X and starts it from c's checkpoint in the cluster (admin
    `placement.handed_restore` from c, no rebuild from the journal's start);
  - c does not restart: it says it publishes X until b does, then stops after the seq b said
    (admin `placement.gave`) and computes only what its remaining nodes read;
  - b publishes X to the end, c none of it for the last 150 scans; a subscriber of every endpoint
    has every seq of every node with no gap to the last one a single-process replay has, and no
    seq twice with different bytes; b's stored outputs of every node it computes (X among them,
    backfilled before c's checkpoint) equal one process replaying b's journal.
The active process runs with the failpoint placement_ack_lost: the first move's write of the
placement goes through and is taken for one the cluster did not acknowledge. The standbys act on
it at once; a reads it back at its next listing, finds it there and goes on from it, so all of
the above holds for that move too (before the read-back, a went on placing by the placement before
it and refused the move)."""
import os
import time

from cluster_harness import (TWO_CHAINS_INPUTS, TWO_CHAINS_NAMES, check_dir_parity, check_received, cluster_state,
                             feed_until_checkpointed, last_seqs, placed_two_chains, scans_ingested, settled, stop_cleanly,
                             two_chains_computed)
from harness import check, run, wait_for

TTL_S = 2
NAMES = TWO_CHAINS_NAMES
placed = placed_two_chains(("a", "b", "c"), "mv", TTL_S, envs={"a": {"SHOAL_FAILPOINTS": "placement_ack_lost"}})
wd, data, logs, procs, instance, owned, scans = (placed.wd, placed.data, placed.logs, placed.procs, placed.instance,
                                                 placed.owned, placed.scans)
outputs = placed.outputs
check(owned["c"], f"c has no node of its own: {owned}")
for _ in range(10):
    scans.burst(25)
feed_until_checkpointed(scans, data, ["c"])
# One of c's nodes, a leaf if it has one (then c computes less once it is gone).
leaves = [n for n in owned["c"] if not any(n in ins for ins in TWO_CHAINS_INPUTS.values())]
moved = sorted(leaves or owned["c"])[0]


def admin(who, *args):
    r = run(["admin", "--socket", os.path.join(data[who], "shoal.sock"), *args, "--json"], timeout=10)
    return r.returncode, r.stdout + r.stderr


for who, args, says in [
    ("b", ("move", moved, instance["b"]), "only the active process of a placed engine"),
    ("a", ("move", moved, instance["a"]), "the active process takes no node by a move"),
    ("a", ("move", moved, instance["c"]), "is on " + instance["c"] + " already"),
    ("a", ("move", moved, "nowhere-00000000"), "is not a placed process"),
    ("a", ("move", "feed.scan", instance["b"]), "is a stream"),
    ("a", ("move", "nothing", instance["b"]), "no node named"),
    ("a", ("move", moved), "the placed process to move it to"),
]:
    rc, out = admin(who, *args)
    check(rc != 0 and says in out, f"admin {' '.join(args)} on {who}: {rc} {out}")


def move_node(node, giver, receiver):
    """Moves NODE from GIVER to RECEIVER with admin `move` on a, and checks it as the docstring
    says. Returns the seconds it took, `placement.move`, the giver's `gave` and the receiver's
    `handed_restore`."""
    before = cluster_state(data["a"])["placement"]["nodes"]
    restarts = open(logs[receiver]).read().count("restarting on data dir")
    rc, out = admin("a", "move", node, instance[receiver])
    check(rc == 0 and '"asked"' in out, f"admin move: {rc} {out}")
    asked = time.monotonic()

    def gave():
        g = cluster_state(data[giver]).get("placement", {}).get("gave", {})
        return g if g.get("nodes") == [node] else {}

    while "ms" not in gave():  # a places it, the receiver restarts and says it publishes it, the giver cuts it
        check(time.monotonic() - asked < 60,
              f"{giver} did not give {node} to {receiver}: a: {cluster_state(data['a']).get('placement')}\n"
              f"{receiver}: {cluster_state(data[receiver]).get('placement')}\n"
              f"{giver}: {cluster_state(data[giver]).get('placement')}\n{open(logs[receiver]).read()[-3000:]}")
        scans.burst(5)
    took = time.monotonic() - asked
    state_a = cluster_state(data["a"])["placement"]
    after = state_a["nodes"]
    check(after == {**before, node: instance[receiver]}, f"placement before {before}, after {after}")
    move = state_a.get("move", {})
    check(move.get("node") == node and move.get("from") == instance[giver] and move.get("to") == instance[receiver]
          and "why_not" not in move and move.get("handed", 0) > 0, f"admin placement.move: {move}")
    g = gave()
    check(g["to"] == instance[receiver] and g["stopped"].get(node, 0) > 0, f"{giver} gave {g}")
    log_giver = open(logs[giver]).read()
    check("restarting on data dir" not in log_giver, f"{giver} restarted: {log_giver[-3000:]}")
    check(giver == "a" or f"move to placed process {instance[receiver]}" in log_giver,
          f"{giver}'s log: {log_giver[-3000:]}")
    wait_for(lambda: cluster_state(data[receiver]).get("placement", {}).get("nodes") == after, timeout=30,
             what=f"{receiver} placing by the new placement")
    restored = cluster_state(data[receiver])["placement"].get("handed_restore", {})
    log_r = open(logs[receiver]).read()
    check(log_r.count("restarting on data dir") == restarts + 1 and restored.get("from") == instance[giver] and
          "why_not" not in restored and "rebuilds every node" not in log_r,
          f"{receiver} did not start {node} from {giver}'s checkpoint: {restored}\n{log_r[-3000:]}")
    keeps = [n for n, p in after.items() if p == instance[giver]]
    wait_for(lambda: sorted(cluster_state(data[giver]).get("placement", {}).get("computed", [])) ==
             sorted(two_chains_computed(keeps)), timeout=10,
             what=f"{giver} computing what its nodes read only: {cluster_state(data[giver]).get('placement')}")
    return took, move, g, restored


moves = [(moved, "c", "b") + move_node(moved, "c", "b")]
log_a = open(logs["a"]).read()
check("failpoint placement_ack_lost" in log_a and "without an acknowledgement is in the cluster: going on from it" in log_a,
      f"a did not read back the placement whose acknowledgement it lost: {log_a[-3000:]}")
# Then one of the active process's own, to c.
a_own = sorted(n for n, p in cluster_state(data["a"])["placement"]["nodes"].items() if p == instance["a"])
if a_own:  # (the placement may leave a none: then only the first move is checked)
    feed_until_checkpointed(scans, data, ["a", "c"])
    moves.append((a_own[0], "a", "c") + move_node(a_own[0], "a", "c"))

for _ in range(6):
    scans.burst(25)
wait_for(lambda: scans_ingested(data["a"]) == scans.sent, timeout=30, what=f"a ingesting all {scans.sent} scans")
for node, giver, receiver, _, _, g, _ in moves:
    made = settled(lambda: scans_ingested(data[receiver]) == scans.sent and last_seqs(data[receiver], [node]))
    wait_for(made, timeout=30, what=f"{receiver} making {node}'s last outputs")
    wait_for(lambda: outputs.last_from(receiver, node) >= made.last[node], timeout=30,
             what=f"{receiver} publishing {node} to the end: {outputs.last_from(receiver, node)}, made {made.last}")
    last_giver = outputs.last_from(giver, node)
    check(g["stopped"][node] <= last_giver < made.last[node] - 100,
          f"{giver} published {node} to {last_giver}, stopped after {g['stopped'][node]}, {receiver}'s last is "
          f"{made.last[node]}")
receivers = sorted({receiver for _, _, receiver, *_ in moves})
for n in receivers:
    wait_for(lambda: cluster_state(data[n]).get("backfill", {"done": True}).get("done"), timeout=60,
             what=f"{n} storing the outputs its backfill owes: {cluster_state(data[n]).get('backfill')}")
    wait_for(lambda: cluster_state(data[n]).get("followed", 0) >= cluster_state(data["a"])["committed"],
             timeout=30, what=f"{n} following the whole journal")
computed = {n: set(cluster_state(data[n])["placement"]["computed"]) for n in receivers}
for node, _, receiver, *_ in moves:
    check(node in computed[receiver], f"{receiver} does not compute {node}: {computed[receiver]}")
stop_cleanly(procs, logs, ("a", "b", "c"), placed.stop_receiving)
check_received(outputs, data["a"], wd, scans.sent, NAMES, [m[0] for m in moves])
# Each receiver's stored outputs of every node it computes (the one moved to it among them, made
# from its giver's checkpoint and backfilled before it) against one process replaying its journal.
for n in receivers:
    check_dir_parity(wd, data[n], n, computed[n])
placed.cluster.down()
print(f"ok: {scans.sent} scans; " + "; ".join(
    f"{node} moved from {giver} to {receiver} {took:.2f} s after the admin move (handed after seq {move['handed']}), "
    f"{receiver} from {giver}'s checkpoint at journal record {restored.get('journal_pos')}, {giver} stopped after seq "
    f"{g['stopped'][node]}, {g['ms']} ms after the placement" for node, giver, receiver, took, move, g, restored in moves))
