"""Cluster mode with publish_after_commit: the cluster's acknowledgement is the commit. While the
whole JetStream cluster is down, the engine goes on journaling and storing locally but publishes
nothing (a subscriber sees no output whose inputs are not in the stream); once the servers are
back, the held outputs go out and the subscriber's seqs continue without a gap or a repeat."""
import atexit
import json
import os
import socket
import subprocess
import time

import msgpack
import zmq

from harness import SOURCE_DIR, check, free_port, run, start, wait_for, workdir

CLUSTER = os.path.join(SOURCE_DIR, "scripts", "cluster")


def ports_free(base):
    for p in [base + i for i in range(3)] + [base + 100 + i for i in range(3)] + [base + 200 + i for i in range(3)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


wd = workdir()
nats_dir = os.path.join(wd, "nats")
base = next(b for b in range(51000 - (os.getpid() % 50) * 300, 20000, -300) if ports_free(b))
cluster_args = ["--servers", "3", "--dir", nats_dir, "--port", str(base)]
up = subprocess.run([CLUSTER, "up"] + cluster_args, capture_output=True, text=True, timeout=60)
atexit.register(lambda: subprocess.run([CLUSTER, "down", "--dir", nats_dir], capture_output=True))
check(up.returncode == 0, f"scripts/cluster up: {up.stderr}")

pub_port = free_port()
cfg = os.path.join(wd, "engine.toml")
open(cfg, "w").write(f"""
[engine]
name = "p1"
publish = "tcp://127.0.0.1:{pub_port}"
publish_after_commit = true

[cluster]
{up.stdout.strip()}

[[source]]
name = "market"
kind = "fabricator"
seed = 9
assets = 10
interval = "1s"
pace = "2ms"

[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}
""")
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
    r = run(["admin", "--socket", sock, "cluster", "--json"], timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else {}


engine = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def received(n):
    receive()
    return len(seqs) >= n


wait_for(lambda: received(300), timeout=30, what="outputs published")

# The whole cluster goes down: the engine keeps journaling, and holds its outputs.
subprocess.run([CLUSTER, "down", "--dir", nats_dir], check=True)
wait_for(lambda: state().get("lag", 0) > 1000, timeout=30, what="a replication lag while the cluster is down")
receive(200)
held_from = len(seqs)
s = state()
check(s["committed"] > s["replicated"], f"cluster state while down: {s}")
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    receive(100)
check(len(seqs) == held_from, f"{len(seqs) - held_from} outputs were published while the cluster was down")

# Back up: the held outputs go out, in order, with no gap and no repeat.
up = subprocess.run([CLUSTER, "up"] + cluster_args, capture_output=True, text=True, timeout=60)
check(up.returncode == 0, f"scripts/cluster up again: {up.stderr}")
wait_for(lambda: state().get("lag", 1) == 0 and state().get("replicated", 0) > s["committed"], timeout=60,
         what="replication caught up after the cluster came back")
wait_for(lambda: received(held_from + 1000), timeout=30, what="the held outputs published")
check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the subscriber's seqs have a gap or a repeat")
engine.terminate()
engine.wait(timeout=30)
print("ok")
