"""Cluster mode with publish_after_commit: the cluster's acknowledgement is the commit. While the
whole JetStream cluster does not answer (its three servers frozen with SIGSTOP, as a partition
would), the engine goes on journaling and storing locally but publishes nothing (a subscriber
sees no output whose inputs are not in the stream); once the servers answer again, the held
outputs go out and the subscriber's seqs continue without a gap or a repeat. The engine's lease,
older than heartbeat_ttl by then, is taken again rather than lost."""
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


engine = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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

# Back up: the held outputs go out, in order, with no gap and no repeat.
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGCONT)
wait_for(lambda: state().get("replicated", 0) > s["committed"], timeout=60,
         what="replication past the outage after the cluster came back")
wait_for(lambda: received(held_from + 1000), timeout=30, what="the held outputs published")
check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the subscriber's seqs have a gap or a repeat")
check(state().get("role") == "active", f"the engine after the outage: {state()}")
engine.terminate()
engine.wait(timeout=30)
print("ok")
