"""Cluster mode, failover (issue 14, acceptance 2 for an active engine and its standby): engine
f1 runs on a 3-server JetStream cluster; a second process runs the same graph with --standby,
following f1's journal from the stream and computing the same outputs. A third process started
as f1 while f1 is alive is refused. Then f1 is killed with kill -9: the standby takes f1's lease
within 2 x heartbeat_ttl, reads the stream to its end and goes on as f1 with its own sources.
  - a subscriber of the standby sees every seq once, contiguous across the takeover;
  - every output the killed engine stored has the same seq and bytes on the new one, whose
    outputs equal a replay of its journal;
  - the journal continues the killed one's (the fabricator regenerates by index) and the
    cluster's copy replays to the same outputs."""
import json
import os
import signal
import subprocess
import time

import msgpack
import zmq

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, check_parity, replayed, run, start, wait_for, workdir

TTL_S = 2
wd = workdir()
cluster = local_cluster(wd)


def config(name):
    return cluster_engine_config(wd, name, "f1", f'{cluster.servers_line}\nheartbeat_ttl = "{TTL_S}s"')


state = cluster_state
cfg_a, _ = config("a")
cfg_b, port_b = config("b")
data_a, data_b = os.path.join(wd, "a"), os.path.join(wd, "b")
active = start(["run", cfg_a, "--data", data_a], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: state(data_a).get("replicated", 0) >= 1500, timeout=30, what="f1's journal in the cluster")
check(state(data_a).get("role") == "active", f"the first f1: {state(data_a)}")

standby_log = open(os.path.join(wd, "standby.log"), "w")
standby = start(["run", cfg_b, "--data", data_b, "--standby"], stdout=standby_log, stderr=subprocess.STDOUT)
wait_for(lambda: state(data_b).get("followed", 0) >= 1500, timeout=30, what="the standby following f1")
s = state(data_b)
check(s["role"] == "standby" and "pid" in s.get("holder", ""), f"the standby: {s}")
extra = os.path.join(wd, "extra.toml")
open(extra, "w").write('[strategy]\nname = "extra"\n\n[[node]]\nname = "e"\nkind = "zscore"\n'
                       'params = { window = 7 }\ninputs = { in = "ret" }\n')
r = run(["admin", "--socket", os.path.join(data_b, "shoal.sock"), "submit", extra])
check(r.returncode != 0 and "standby" in (r.stdout + r.stderr), f"a standby takes no graph change: {r.stdout}{r.stderr}")

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"z")
sub.setsockopt(zmq.RCVHWM, 0)
sub.connect(f"tcp://127.0.0.1:{port_b}")
seen = {}
repeats = []


def receive(n=None):
    while sub.poll(20):
        topic, body = sub.recv_multipart()
        if topic != b"z":
            continue
        seq = msgpack.unpackb(body, raw=False)["seq"]
        if seq in seen:
            repeats.append(seq)
            check(seen[seq] == body, f"z seq {seq} came twice with different values")
        seen[seq] = body
    return n is None or len(seen) >= n


wait_for(lambda: receive(200), timeout=20, what="the standby publishing")

# A second active f1 while f1 is alive: refused after waiting 2 x heartbeat_ttl for the lease.
cfg_c, _ = config("c")
r = run(["run", cfg_c, "--data", os.path.join(wd, "c"), "--for", "1s"], timeout=60)
check(r.returncode != 0 and "engine f1 is running elsewhere" in r.stderr, f"a second f1: {r.returncode} {r.stderr}")

active.send_signal(signal.SIGKILL)
active.wait()
killed = time.monotonic()
wait_for(lambda: receive() and state(data_b).get("role") == "active", timeout=30, what="the standby taking over")
took = time.monotonic() - killed
print(f"the standby took over {took:.2f} s after the kill (heartbeat_ttl {TTL_S} s)")
check(took <= 2 * TTL_S + 0.5, f"the takeover took {took:.2f} s, more than 2 x heartbeat_ttl")
committed = state(data_b)["committed"]
wait_for(lambda: receive() and state(data_b).get("replicated", 0) >= committed + 2000, timeout=30,
         what="the new f1 ingesting and replicating")
standby.send_signal(signal.SIGTERM)
check(standby.wait(timeout=60) == 0, "the new f1 did not stop cleanly")
receive()

seqs = sorted(seen)
check(seqs == list(range(seqs[0], seqs[-1] + 1)), "the subscriber's z seqs have a gap")
a_out = run(["export", data_a, "--outputs"]).stdout.splitlines()
b_out = {(o["node"], o["seq"]): line for line in run(["export", data_b, "--outputs"]).stdout.splitlines()
         for o in [json.loads(line)]}
check(len(a_out) > 100, f"the killed engine stored {len(a_out)} outputs")
for line in a_out:
    o = json.loads(line)
    check(b_out.get((o["node"], o["seq"])) == line, f"{o['node']} seq {o['seq']} differs after the takeover")
a_journal = run(["export", data_a, "--journal"]).stdout.splitlines()
b_journal = run(["export", data_b, "--journal"]).stdout.splitlines()
check(b_journal[: len(a_journal)] == a_journal, "the new journal does not continue the killed one's")
check_parity(data_b, replayed(data_b, cfg_b, os.path.join(wd, "b.replay")), "the new f1 against its replay",
             min_outputs=100)
pulled = os.path.join(wd, "pulled")
r = run(["replay", "--cluster", cluster.urls, "--engine-id", "f1", pulled, "--out", os.path.join(wd, "pulled.replay")])
check(r.returncode == 0, f"replay --cluster: {r.stderr}")
check(run(["export", pulled, "--journal"]).stdout.splitlines() == b_journal, "the cluster's journal is not the new f1's")
print(f"ok: {len(seqs)} z outputs seen by the subscriber, {len(repeats)} repeated with equal bytes")
