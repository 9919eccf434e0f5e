"""Cluster mode with publish_after_commit: the cluster's acknowledgement is the commit. While the
whole JetStream cluster does not answer (its three servers frozen with SIGSTOP, as a partition
would), the engine goes on journaling and storing locally but publishes nothing (a subscriber
sees no output whose inputs are not in the stream); once the servers answer again, the held
outputs go out and the subscriber's seqs continue without a gap or a repeat. The engine's lease,
older than heartbeat_ttl by then, is taken again rather than lost. Meanwhile admin `cluster` says
how long ago the oldest record the stream lacks was committed (`lag_ms`), and past 5 s the log
warns that a host lost now would lose those records; once the stream holds the journal again,
the log says so and the age is back near zero."""
import os
import signal
import subprocess
import time

import msgpack
import zmq

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)
cfg, pub_port = cluster_engine_config(wd, "engine", "p1", cluster.servers_line + '\nheartbeat_ttl = "1s"',
                                      "publish_after_commit = true")
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"ret")
sub.setsockopt(zmq.RCVHWM, 0)
sub.connect(f"tcp://127.0.0.1:{pub_port}")
seqs = []


def receive(timeout_ms=50):
    while sub.poll(timeout_ms):
        topic, body = sub.recv_multipart()
        if topic == b"ret":
            seqs.append(msgpack.unpackb(body, raw=False)["seq"])
        timeout_ms = 0


def state():
    return cluster_state(data)


log_path = os.path.join(wd, "engine.log")
engine = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))


def log():
    with open(log_path) as f:
        return f.read()


def received(n):
    receive()
    return len(seqs) >= n


wait_for(lambda: received(300), timeout=30, what="outputs published")

# The whole cluster stops answering: the engine keeps journaling, and holds its outputs.
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGSTOP)
wait_for(lambda: state().get("lag", 0) > 1000, timeout=30, what="a replication lag while the cluster is down")
receive(200)
held_from = len(seqs)
s = state()
check(s["committed"] > s["replicated"], f"cluster state while down: {s}")
deadline = time.monotonic() + 2.0  # longer than heartbeat_ttl
while time.monotonic() < deadline:
    receive(100)
check(len(seqs) == held_from, f"{len(seqs) - held_from} outputs were published while the cluster was down")
# The lag's age grows with the outage (the record count says how much, not how old), and past
# 5 s the log warns, not before.
wait_for(lambda: state().get("lag_ms", 0) > 4000, timeout=30, what="a replication lag 4 s old")
check("the stream lacks journal records" not in log(), "a lag warning before the lag was 5 s old")
wait_for(lambda: state().get("lag_ms", 0) > 5500, timeout=30, what="a replication lag older than 5 s")
wait_for(lambda: "the stream lacks journal records" in log(), timeout=10, what="the lag warning")
warning = next(line for line in log().splitlines() if "the stream lacks journal records" in line)
check("a host lost now loses them" in warning and "engine p1" in warning, f"the lag warning: {warning}")
receive(100)
check(len(seqs) == held_from, f"{len(seqs) - held_from} outputs were published while the cluster was down")

# Back up: the held outputs go out, in order, with no gap and no repeat.
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGCONT)
wait_for(lambda: state().get("replicated", 0) > s["committed"], timeout=60,
         what="replication past the outage after the cluster came back")
wait_for(lambda: received(held_from + 1000), timeout=30, what="the held outputs published")
check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the subscriber's seqs have a gap or a repeat")
check(state().get("role") == "active", f"the engine after the outage: {state()}")
wait_for(lambda: "holds engine p1's journal again" in log(), timeout=30, what="the log saying the lag ended")
wait_for(lambda: state().get("lag_ms", 1e9) < 1000, timeout=30, what="the lag's age back near zero")
engine.terminate()
engine.wait(timeout=30)
print("ok")
