"""A standby that joins, on this machine (scripts/bench, docs/cluster.md "A standby that joins"):
six independent chains (eigen_scanner -> mc_forewarner, each scanner with its own windows) over one
48-asset scan stream (no books, a scan every PACE) placed on three processes of one engine
([cluster] members = 3, heartbeat_ttl 2 s) on a local 3-server JetStream cluster. (In
scenarios/blue sizing reads every other node: whoever keeps it computes the whole graph, and a
give takes no computing off it.) After
SECONDS, standby c is killed with kill -9 and its nodes go to the others; once they run steady, c
starts again on its data dir and the placed processes give it nodes back while they run. The CPU
each process uses (user + system time from /proc, in cores) is read over WINDOW seconds with c dead
and again once every giver stopped publishing and computing what it gave.

Prints, as `name value` lines:
  give_after_s          c's start until every process that gave it nodes publishes none of them
                        (c rebuilt its nodes from its journal first, and follows the stream)
  give_nodes            per giver: the nodes it gave, how long after the placement it cut the
                        last of them, and those of them (with upstream copies only they read) it
                        no longer computes
  give_cpu_before       per process, c dead: cores used
  give_cpu_after        per process, c back with its share: cores used
  give_cpu_givers       the givers' cores, before -> after (what the give took off them)

Usage: cluster_give.py SHOAL_BIN [SECONDS] [WINDOW]"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_cluster import admin as admin_of, cluster_down, cluster_up, free_port, placed_instance
from bench_cluster import stop_all, wait as bench_wait

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10
WINDOW = float(sys.argv[3]) if len(sys.argv) > 3 else 4
PACE = os.environ.get("BENCH_GIVE_PACE", "5ms")
TICK = os.sysconf("SC_CLK_TCK")


def admin(data, cmd):
    return admin_of(SHOAL, data, cmd)


def chains_config(path, cluster):
    text = (f'[engine]\nname = "give"\npublish = "tcp://127.0.0.1:{free_port()}"\n\n[cluster]\n{cluster}\n\n'
            f'[[source]]\nname = "market"\nkind = "fabricator"\nseed = 7\nassets = 48\ninterval = "1s"\n'
            f'pace = "{PACE}"\nbooks = false\n')
    for i, windows in enumerate([[50, 150, 300, 750], [40, 120, 360], [60, 180, 540], [30, 90, 270, 810],
                                 [50, 200, 600], [70, 210, 630]]):
        text += (f'\n[[node]]\nname = "scanner{i}"\nkind = "eigen_scanner"\ninputs = {{ in = "market.scan" }}\n'
                 f'params = {{ windows = {windows}, short = {windows[0]}, long = {windows[1]} }}\n'
                 f'\n[[node]]\nname = "mc{i}"\nkind = "mc_forewarner"\ninputs = {{ in = "scanner{i}" }}\n'
                 f'params = {{ paths = 4000, horizon = 20, window = 100, dd = 0.02 }}\n')
    open(path, "w").write(text)


def wait(what, cond, timeout=120):
    bench_wait("cluster_give.py", what, cond, timeout, step=0.05)  # each poll runs admin twice


def cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def cores(procs):
    """Cores each of PROCS (name → Popen) uses over WINDOW seconds."""
    t0, c0 = time.monotonic(), {n: cpu_s(p.pid) for n, p in procs.items()}
    time.sleep(WINDOW)
    dt = time.monotonic() - t0
    return {n: (cpu_s(p.pid) - c0[n]) / dt for n, p in procs.items()}


def instance_of(data):
    return placed_instance(SHOAL, data, "cluster_give.py")


def measure(work, servers, procs, data):
    args, logs = {}, {}
    for n in ("b", "c", "a"):
        cfg = os.path.join(work, f"{n}.toml")
        chains_config(cfg, f'{servers}\nengine_id = "give"\nheartbeat_ttl = "2s"\nmembers = 3\n'
                           f'checkpoints = true')
        data[n] = os.path.join(work, n)
        logs[n] = data[n] + ".log"
        args[n] = [SHOAL, "run", cfg, "--data", data[n]] + ([] if n == "a" else ["--standby"])
        procs[n] = subprocess.Popen(args[n], stdout=subprocess.DEVNULL, stderr=open(logs[n], "w"))
        if n != "a":
            wait(f"{n} waiting for a placement", lambda: "waiting for the placement" in open(logs[n]).read())
    wait("the placement", lambda: all("placement" in admin(data[n], "cluster") for n in data))
    instance = {n: instance_of(data[n]) for n in data}
    time.sleep(SECONDS)
    procs["c"].send_signal(signal.SIGKILL)
    procs["c"].wait()
    del procs["c"]

    def c_gone():
        p = admin(data["a"], "cluster").get("placement", {})
        return p.get("nodes") and instance["c"] not in p["nodes"].values()

    wait("c's nodes placed on a and b", c_gone)
    wait("a and b live with c's nodes", lambda: all(admin(data[n], "status").get("state") == "live" and
                                                    admin(data[n], "cluster").get("backfill", {"done": True})
                                                    .get("done") for n in ("a", "b")))
    time.sleep(2)  # a restarted standby's first catch-up over
    before = cores(procs)
    back = time.monotonic()
    procs["c"] = subprocess.Popen(args["c"], stdout=subprocess.DEVNULL, stderr=open(logs["c"] + ".2", "w"))

    def gave():
        out = {}
        for n in ("a", "b"):
            g = admin(data[n], "cluster").get("placement", {}).get("gave", {})
            if g.get("to") == instance["c"]:
                out[n] = g
        return out

    # The listing that cuts the last node stops computing what it cut (shed_cut_nodes), under the
    # same lock as `ms` is set.
    givers = {}
    wait("a give to c, every given node cut",
         lambda: givers.update(gave()) or (givers and all("ms" in g for g in givers.values())))
    given_after = time.monotonic() - back
    after = cores(procs)
    stop_all(procs)
    return given_after, givers, before, after


work = tempfile.mkdtemp(prefix="shoal-give-bench-")
nats = os.path.join(work, "nats")
procs, data = {}, {}
try:
    servers = cluster_up(nats)
    try:
        given_after, givers, before, after = measure(work, servers, procs, data)
    finally:  # also when a wait timed out: no process outlives the run
        stop_all(procs, kill=True)
    print(f"give_after_s {given_after:.2f}  (c's start until every giver publishes none of what it gave)")
    print("give_nodes " + "; ".join(f"{n} gave {sorted(g['nodes'])} (cut {g['ms']} ms after the placement), no "
                                    f"longer computes {sorted(g.get('no_longer_computed', [])) or 'none'}"
                                    for n, g in sorted(givers.items())))
    print("give_cpu_before " + " ".join(f"{n}={v:.2f}" for n, v in sorted(before.items())) + "  (cores, c dead)")
    print("give_cpu_after " + " ".join(f"{n}={v:.2f}" for n, v in sorted(after.items())) + "  (cores, c back)")
    print("give_cpu_givers " + " ".join(f"{n} {before[n]:.2f} -> {after[n]:.2f}" for n in sorted(givers)))
finally:
    cluster_down(nats)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
