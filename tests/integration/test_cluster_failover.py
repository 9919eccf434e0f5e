"""Cluster mode, failover (issue 14, acceptance 2 for an active engine and its standby): engine
f1 runs on a 3-server JetStream cluster; a second process runs the same graph with --standby,
following f1's journal from the stream and computing the same outputs. A third process started
as f1 while f1 is alive is refused. Then f1 is killed with kill -9: the standby takes f1's lease
within 2 x heartbeat_ttl, reads the stream to its end and goes on as f1 with its own sources.
  - a subscriber of the standby sees every seq once, contiguous across the takeover;
  - `shoal tail --cluster` (which subscribes to every member of f1 it finds in the cluster)
    prints every seq once, in order, across the kill, with the values the new f1 stored;
  - every output the killed engine stored has the same seq and bytes on the new one, whose
    outputs equal a replay of its journal;
  - the journal continues the killed one's (the fabricator regenerates by index) and the
    cluster's copy replays to the same outputs;
  - with [cluster] stream_outputs, the stream holds every output of every node, each seq once
    and in order from 1 (the killed engine's sent before the kill, the rest by the new f1), equal
    to what the new f1 stored: `shoal tail --from-stream` reads them back."""
import json
import os
import signal
import subprocess
import time

import msgpack
import zmq

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import SOURCE_DIR, check, check_parity, replayed, run, start, wait_for, workdir

TTL_S = 2
wd = workdir()
cluster = local_cluster(wd)


def config(name):
    return cluster_engine_config(wd, name, "f1",
                                 f'{cluster.servers_line}\nheartbeat_ttl = "{TTL_S}s"\nstream_outputs = true')


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


def both_members(s):
    return (sorted(m["role"] for m in s.get("members", [])) == ["active", "standby"]
            and f"127.0.0.1:{port_b}" in " ".join(m["publish"] for m in s["members"]))


# A standby lists the members every third renewal: it may have followed the journal before.
wait_for(lambda: both_members(state(data_b)), timeout=3 * TTL_S, what="the standby listing both members")
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
    # Drains for at most 0.2 s: a feed that never pauses for 20 ms would keep the caller here
    # (a wait_for that never checks its condition, for as long as the engine runs).
    until = time.monotonic() + 0.2
    while time.monotonic() < until and sub.poll(20):
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

# `shoal tail --cluster`: every member of f1, wherever it publishes.
tail_path, tail_err_path = os.path.join(wd, "tail.jsonl"), os.path.join(wd, "tail.err")
tail = start(["tail", "--cluster", cfg_a, "z", "--json"], stdout=open(tail_path, "w"),
             stderr=open(tail_err_path, "w"))


def tail_lines():
    return [json.loads(line) for line in open(tail_path).read().splitlines() if line.endswith("}")]


wait_for(lambda: open(tail_err_path).read().count("shoal: following") == 2 and len(tail_lines()) >= 100,
         timeout=20, what="shoal tail --cluster following both members of f1")
check("(active)" in open(tail_err_path).read() and "(standby)" in open(tail_err_path).read(),
      open(tail_err_path).read())

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
# The new f1 goes on from the end of the stream, which may lack the killed one's last records (its
# replication lag, longer on a loaded machine): it regenerates them, and runs on past them
# before it stops, so that it holds every output the killed one stored.
killed_records = len(run(["export", data_a, "--journal"]).stdout.splitlines())
committed = max(state(data_b)["committed"], killed_records)
wait_for(lambda: receive() and state(data_b).get("replicated", 0) >= committed + 2000, timeout=30,
         what="the new f1 ingesting and replicating")
standby.send_signal(signal.SIGTERM)
check(standby.wait(timeout=60) == 0, "the new f1 did not stop cleanly")
receive()
wait_for(lambda: f"127.0.0.1:{port_b} left engine f1" in open(tail_err_path).read(), timeout=10,
         what="the stopped member leaving the cluster's members")
tail.send_signal(signal.SIGINT)
check(tail.wait(timeout=10) == 130, "shoal tail --cluster did not stop on Ctrl-C")

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
killed_last = max(json.loads(line)["seq"] for line in a_out if json.loads(line)["node"] == "z")
tailed = tail_lines()
tail_seqs = [o["seq"] for o in tailed]
check(tail_seqs == list(range(tail_seqs[0], tail_seqs[-1] + 1)),
      f"shoal tail --cluster printed z seqs out of order, twice or with a gap: {tail_seqs[:5]}...")
check(tail_seqs[0] < killed_last < tail_seqs[-1] - 100,
      f"shoal tail --cluster did not follow across the kill: seqs {tail_seqs[0]}..{tail_seqs[-1]}, "
      f"the killed engine's last {killed_last}")
check("gap" not in open(tail_err_path).read(), open(tail_err_path).read())
for o in tailed:
    stored = json.loads(b_out[("z", o["seq"])])
    check(o["value"] == stored["value"] and o["bucket"] == stored["bucket"],
          f"shoal tail --cluster: z seq {o['seq']} is not the stored output")
check_parity(data_b, replayed(data_b, cfg_b, os.path.join(wd, "b.replay")), "the new f1 against its replay",
             min_outputs=100)
pulled = os.path.join(wd, "pulled")
r = run(["replay", "--cluster", cluster.urls, "--engine-id", "f1", pulled, "--out", os.path.join(wd, "pulled.replay")])
check(r.returncode == 0, f"replay --cluster: {r.stderr}")
check(run(["export", pulled, "--journal"]).stdout.splitlines() == b_journal, "the cluster's journal is not the new f1's")
# The stream: every output of every node, each seq once and in order from 1, whichever f1 sent it
# (the streams' events are the journal: not there).
b_lines = [line for line in run(["export", data_b, "--outputs"]).stdout.splitlines()
           if json.loads(line)["node"] in ("ret", "z")]
r = run(["tail", "--cluster", cfg_b, "--from-stream", "--json", "--count", str(len(b_lines)), "--for", "60s"],
        timeout=120)
check(r.returncode == 0 and not any(w in r.stderr for w in ("gap on", "twice", "came late")),
      f"tail --from-stream: {r.returncode} {r.stderr[-2000:]}")
from_stream = {}
for line in r.stdout.splitlines():
    o = json.loads(line)
    from_stream.setdefault(o["node"], []).append(o)
stored = {}
for line in b_lines:
    o = json.loads(line)
    stored.setdefault(o["node"], []).append(o)
check(sorted(from_stream) == sorted(stored), f"nodes in the stream {sorted(from_stream)}, stored {sorted(stored)}")
for node, outs in from_stream.items():
    check([o["seq"] for o in outs] == list(range(1, len(outs) + 1)), f"{node}'s seqs in the stream have a gap")
    check(outs == sorted(stored[node], key=lambda o: o["seq"]), f"{node} in the stream differs from the new f1's")
# --since: the last 50 of z, the subject sought (past two exporter batches: not read from its start).
z = sorted(stored["z"], key=lambda o: o["seq"])
check(len(z) > 2 * 512, f"z has {len(z)} outputs: too few for --since to seek")
since = len(z) - 50
r = run(["tail", "--cluster", cfg_b, "--from-stream", "z", "--since", str(since), "--json", "--count", "50", "--for",
         "30s"], timeout=60)
check(r.returncode == 0 and [json.loads(line) for line in r.stdout.splitlines()] == z[since:],
      f"tail --from-stream z --since {since}: {r.returncode} {r.stdout[:300]} {r.stderr[-2000:]}")
check("reading from stream sequence" in r.stderr, f"--since {since} read z from its start: {r.stderr}")
# Nobody runs f1 now: tail --cluster says so and waits; a config without [cluster] is refused.
r = run(["tail", "--cluster", cfg_a, "z", "--for", "1s"], timeout=60)
check(r.returncode == 1 and "no member of engine f1 publishes in the cluster yet" in r.stderr, r.stderr)
r = run(["tail", "--cluster", os.path.join(SOURCE_DIR, "config", "engine.toml"), "z"])
check(r.returncode == 2 and "has no [cluster] table" in r.stderr, r.stderr)
print(f"ok: {len(seqs)} z outputs seen by the subscriber, {len(repeats)} repeated with equal bytes; "
      f"shoal tail --cluster printed {len(tail_seqs)}; the stream holds {len(b_lines)} outputs")
