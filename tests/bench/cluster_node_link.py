"""A cluster_node link on this machine (docs/cluster.md, "Another engine's nodes as a source"): a
local 3-server JetStream cluster (R3), engine a1 computing log_return and a zscore over a
fabricated feed of 48 assets with [cluster] stream_outputs, and engine b1 following a1's zscore
from the stream with a cluster_node source and an ema of it. A bucket every 50 ms, a live feed's
pace. Each output's arrival is timed at two ZeroMQ subscribers: a1's zscore and b1's ema of the
same bucket.

Each run has its own engine ids (a20 and b20, a2 and b2): an empty dir of an engine the stream
already holds would take its journal back from there.

Prints, as `name value` lines, with a1's default commit window (commit_ms = 20) and with 2 ms:
  cluster_node_link_p50/p99[_commit_2ms]   b1's ema published after a1's zscore: a1's group
                                           commit and replication, the JetStream hop, b1's
                                           journal, its ema

Usage: cluster_node_link.py SHOAL_BIN [SECONDS]"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

from bench_cluster import cluster_down, cluster_up, free_port, percentile, wait

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20
SCRIPT = "cluster_node_link.py"


def write(path, text):
    open(path, "w").write(text)
    return path


def a_config(path, servers, port, commit_ms):
    return write(path, f"""
[engine]
name = "a{commit_ms}"
publish = "tcp://127.0.0.1:{port}"
commit_ms = {commit_ms}
[cluster]
{servers}
checkpoints = false
stream_outputs = true
[[source]]
name = "market"
kind = "fabricator"
seed = 9
assets = 48
pace = "50ms"
[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}
[[node]]
name = "z"
kind = "zscore"
inputs = {{ in = "ret" }}
""")


def b_config(path, servers, port, z_id, commit_ms):
    return write(path, f"""
[engine]
name = "b{commit_ms}"
publish = "tcp://127.0.0.1:{port}"
[cluster]
{servers}
checkpoints = false
[[source]]
name = "up"
kind = "cluster_node"
engine = "a{commit_ms}"
interval = "1s"
[[source.stream]]
name = "z"
node = "{z_id}"
[[node]]
name = "zema"
kind = "ema"
params = {{ span = 5 }}
inputs = {{ in = "up.z" }}
""")


def measure(work, servers, commit_ms):
    a_port, b_port = free_port(), free_port()
    a_cfg = a_config(os.path.join(work, f"a{commit_ms}.toml"), servers, a_port, commit_ms)
    ids = dict(reversed(line.split()[:2]) for line in subprocess.run(
        [SHOAL, "plan", "--ids", a_cfg], capture_output=True, text=True, check=True).stdout.splitlines())
    b_cfg = b_config(os.path.join(work, f"b{commit_ms}.toml"), servers, b_port, ids["z"], commit_ms)
    ctx = zmq.Context()
    subs = {}
    for topic, port in ((b"z", a_port), (b"zema", b_port)):
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.SUBSCRIBE, topic)
        s.setsockopt(zmq.RCVHWM, 0)
        s.connect(f"tcp://127.0.0.1:{port}")
        subs[s] = topic.decode()
    poller = zmq.Poller()
    for s in subs:
        poller.register(s, zmq.POLLIN)
    procs = [subprocess.Popen([SHOAL, "run", cfg, "--data", os.path.join(work, f"{name}{commit_ms}")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, cfg in (("b", b_cfg), ("a", a_cfg))]
    at = {"z": {}, "zema": {}}

    def receive(ms):
        for s, _ in poller.poll(ms):
            body = s.recv_multipart()[1]
            at[subs[s]].setdefault(msgpack.unpackb(body, raw=False)["bucket"], time.monotonic())

    end = time.monotonic() + SECONDS + 5
    while time.monotonic() < end:
        receive(100)
    last = max(at["z"], default=0)  # b1's ema of it comes a little later
    wait(SCRIPT, "b1's ema of a1's last bucket", lambda: receive(10) or last in at["zema"], timeout=30)
    for p in procs:
        p.terminate()
        p.wait(timeout=60)
    ctx.destroy(linger=0)
    # The first 5 s are left out: the engines start and the subscriptions settle meanwhile.
    buckets = sorted(set(at["z"]) & set(at["zema"]))[100:]
    return [(at["zema"][b] - at["z"][b]) * 1e3 for b in buckets]


work = tempfile.mkdtemp(prefix="shoal-cluster-node-link-")
nats = os.path.join(work, "nats")
try:
    servers = cluster_up(nats)
    for commit_ms, suffix in ((20, ""), (2, "_commit_2ms")):
        lags = measure(work, servers, commit_ms)
        print(f"cluster_node_link_p50{suffix} {percentile(lags, 50):.1f} ms  ({len(lags)} buckets, a1 commit_ms = "
              f"{commit_ms})")
        print(f"cluster_node_link_p99{suffix} {percentile(lags, 99):.1f} ms")
finally:
    cluster_down(nats)
    shutil.rmtree(work, ignore_errors=True)
