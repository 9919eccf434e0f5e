"""A placed process killed, on this machine (scripts/bench, docs/cluster.md "When a placed process
dies"): scenarios/blue (48 assets with order books, a scan every 2 ms) placed on three processes
of one engine ([cluster] members = 3) on a local 3-server JetStream cluster, for SECONDS; then
the standby publishing the most nodes is killed with kill -9, and the time is taken from the kill
until the process its nodes go to is live again with them. With `active`, blue is placed on two
processes (members = 2) and the active one is killed once it put a checkpoint in the cluster: the
standby takes the lease, restarts as the active process and takes every node, its sources
running. Twice, each on a new engine: with
`checkpoints = true` (the heir starts the handed nodes from the checkpoint the dead process put in
the cluster) and `checkpoints = false` (it rebuilds every node it computes from its journal's
start).

Prints, as `name value` lines:
  heir_journal_records     the journal's length at the kill (checkpoint run)
  heir_rebuild_s           kill to the heir live with the handed nodes, rebuilding
  heir_checkpoint_s        the same, from the dead process's checkpoint
  heir_speedup             rebuild / checkpoint
  heir_brought_forward     records and ms the heir took to bring the dead one's checkpoint to its own
  heir_backfill_s          then, once live: storing the handed nodes' outputs before that checkpoint
  heir_lag_at_kill         the active process's replication lag at the kill: records committed and
                           not yet in the stream, and how long ago the oldest was committed. Its
                           checkpoint in the cluster is at most as recent as what the stream holds
                           (a checkpoint goes once its journal position is replicated), and the
                           heir's journal ends there too: a lag that grows (a feed faster than
                           the cluster takes) makes the checkpoint old and the bring-forward long
(with `active`, the same figures named active_heir_*)

Both include the detection (about 4/3 x heartbeat_ttl = 1 s) and the half second the heir gives
its subscribers to reconnect before it publishes.

BENCH_HEIR_PACE (default 2ms) sets the time between scans: at 2 ms the feed sends more than this
VM's three servers take, so the lag grows through the run; at 4 ms it stays near zero.

Usage: cluster_heir.py SHOAL_BIN [SECONDS] [active]"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_cluster import admin as admin_of, blue_cluster_config, cluster_down, cluster_up
from bench_cluster import placed_instance as bench_placed_instance, stop_all, wait as bench_wait

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20
ACTIVE = len(sys.argv) > 3 and sys.argv[3] == "active"
TTL_S = 1
PACE = os.environ.get("BENCH_HEIR_PACE", "2ms")


def admin(data, cmd):
    return admin_of(SHOAL, data, cmd)


def blue_config(path, servers, engine_id, checkpoints):
    blue_cluster_config(path, f'{servers}\nengine_id = "{engine_id}"\nheartbeat_ttl = "{TTL_S}s"\n'
                              f'members = {2 if ACTIVE else 3}\n'
                              f'checkpoints = {"true" if checkpoints else "false"}\n', PACE)


def wait(what, cond, timeout=120):
    bench_wait("cluster_heir.py", what, cond, timeout)


def placed_instance(dir):
    return bench_placed_instance(SHOAL, dir, "cluster_heir.py")


def run(work, servers, engine_id, checkpoints):
    """Returns (seconds from the kill to the heir live, journal records at the kill, the heir's
    admin `cluster`)."""
    procs, data = {}, {}
    try:
        return measure(engine_id, checkpoints, procs, data, work, servers)
    finally:  # also when a wait timed out: no process outlives the run
        stop_all(procs, kill=True)


def measure(engine_id, checkpoints, procs, data, work, servers):
    standbys = ("b",) if ACTIVE else ("b", "c")
    for n in standbys + ("a",):
        cfg = os.path.join(work, f"{engine_id}-{n}.toml")
        blue_config(cfg, servers, engine_id, checkpoints)
        data[n] = os.path.join(work, f"{engine_id}-{n}")
        args = [SHOAL, "run", cfg, "--data", data[n], "--checkpoint-every", "300"]
        procs[n] = subprocess.Popen(args + ([] if n == "a" else ["--standby"]), stdout=subprocess.DEVNULL,
                                    stderr=open(data[n] + ".log", "w"))
        if n != "a":
            wait(f"{n} waiting for a placement", lambda: "waiting for the placement" in open(data[n] + ".log").read())
    wait("the placement", lambda: all("placement" in admin(data[n], "cluster") for n in data))
    time.sleep(SECONDS)
    placement = admin(data["a"], "cluster")["placement"]
    instance = {n: placed_instance(data[n]) for n in standbys}
    owned = {n: [k for k, v in placement["nodes"].items() if v == instance[n]] for n in instance}
    victim = max(instance, key=lambda n: (len(owned[n]), n))
    if ACTIVE:
        victim = "a"
        instance["a"] = placed_instance(data["a"])
        owned["a"] = [k for k, v in placement["nodes"].items() if v == instance["a"]]
    # A heartbeat that lapsed under load moved nodes (the standby restarted with a larger share):
    # its checkpoint in the cluster could then predate its share, and the heir rightly rebuild.
    if len(placement["members"]) != (2 if ACTIVE else 3) or placement.get("handed"):
        sys.exit(f"cluster_heir.py: the placement changed during the run (a heartbeat lapsed under "
                 f"load; try BENCH_HEIR_PACE=4ms): {placement}")
    if checkpoints:  # the victim's, made since its (last) start: a periodic one, not its first
        wait(f"{victim}'s checkpoint in the cluster", lambda: admin(data[victim], "cluster").get("checkpoint", {})
             .get("uploads", 0) >= 2)
    at_kill = admin(data["a"], "cluster")  # the active process's: it sends the journal
    at_kill["victim_checkpoint"] = admin(data[victim], "cluster").get("checkpoint", {}).get("journal_pos", 0)
    records = at_kill.get("committed", 0)
    procs[victim].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    procs[victim].wait()

    def live_with_nodes(n):
        s = admin(data[n], "cluster")
        return (all(s.get("placement", {}).get("nodes", {}).get(k) == instance[n] for k in owned[victim])
                and admin(data[n], "status").get("state") == "live")

    heir = "b" if ACTIVE or victim == "c" else "c"
    wait(f"{heir} live with {victim}'s nodes",
         lambda: live_with_nodes(heir) and (not ACTIVE or admin(data[heir], "cluster").get("role") == "active"))
    took = time.monotonic() - killed
    state = admin(data[heir], "cluster")
    if checkpoints:
        wait(f"{heir} storing the handed nodes' outputs",
             lambda: admin(data[heir], "cluster").get("backfill", {"done": True}).get("done"))
        state = admin(data[heir], "cluster")
    stop_all(procs)
    return took, records, state, at_kill


work = tempfile.mkdtemp(prefix="shoal-heir-bench-")
nats = os.path.join(work, "nats")
try:
    servers = cluster_up(nats)
    full, _, _, _ = run(work, servers, "heir-full", False)
    fast, records, state, at_kill = run(work, servers, "heir-ckpt", True)
    restored = state.get("placement", {}).get("handed_restore", {})
    if "why_not" in restored or not restored:
        sys.exit(f"cluster_heir.py: the heir did not start from the checkpoint: {restored}")
    backfill = state.get("backfill", {})
    p = "active_heir" if ACTIVE else "heir"
    print(f"{p}_journal_records {records}")
    print(f"{p}_rebuild_s {full:.2f}  (checkpoints = false: every node it computes from the journal's start)")
    print(f"{p}_checkpoint_s {fast:.2f}  (from the dead process's checkpoint in the cluster)")
    print(f"{p}_speedup {full / fast:.2f}")
    print(f"{p}_brought_forward {restored['to'] - restored['journal_pos']} records, {restored['ms']} ms "
          f"(of them 500 ms for its subscribers to reconnect)")
    print(f"{p}_lag_at_kill {at_kill.get('lag', 0)} records, {at_kill.get('lag_ms', 0) / 1000:.1f} s "
          f"(the dead process's last checkpoint in the cluster: journal record {at_kill['victim_checkpoint']})")
    if backfill:
        print(f"{p}_backfill_s {backfill.get('seconds', 0):.2f}  (once live, at low priority: "
              f"{backfill['nodes']} node(s) through journal record {backfill['through']})")
    else:
        print(f"{p}_backfill_s 0  (none: the heir had computed every handed node as an upstream copy)")
finally:
    cluster_down(nats)
    shutil.rmtree(work, ignore_errors=True)
