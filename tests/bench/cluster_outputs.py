"""Cluster mode's outputs in the stream ([cluster] stream_outputs, docs/cluster.md) on this machine:
a local 3-server JetStream cluster (R3, file storage) and an engine computing log_return and an
ema over a fabricated feed of 48 assets with order books.

Prints, as `name value` lines:
  cluster_outputs_backlog           outputs a run without the cluster left in the data dir
  cluster_outputs_backlog_per_s     how fast the engine started on that dir with stream_outputs
                                    gets them into the stream, once its journal is there
  cluster_outputs_live_per_s        the outputs a paced feed makes (a scan every 4 ms, two nodes)
  cluster_outputs_stream_after_zmq_p50/p99
                                    how much later a `shoal tail --from-stream` reader gets an
                                    output than a ZeroMQ subscriber of the same engine: the
                                    JetStream hop, with the group commit and the journal's
                                    replication it waits for

Usage: cluster_outputs.py SHOAL_BIN [SECONDS]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zmq

from bench_cluster import admin as admin_of, cluster_down, cluster_up, free_port, percentile, wait

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3
SCRIPT = "cluster_outputs.py"


def admin(data, cmd):
    return admin_of(SHOAL, data, cmd)


def config(path, servers, pace, port):
    open(path, "w").write(f"""
[engine]
name = "outs"
publish = "tcp://127.0.0.1:{port}"
{"[cluster]" if servers else ""}
{servers}
{"stream_outputs = true" if servers else ""}
[[source]]
name = "market"
kind = "fabricator"
seed = 42
assets = 48
pace = "{pace}"

[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}

[[node]]
name = "fast"
kind = "ema"
params = {{ span = 10 }}
inputs = {{ in = "ret" }}
""")
    return path


def node_outputs(data):
    return sum(n["outputs"] for n in admin(data, "nodes").get("nodes", []) if n["name"] in ("ret", "fast"))


work = tempfile.mkdtemp(prefix="shoal-cluster-outputs-")
nats = os.path.join(work, "nats")
try:
    servers = cluster_up(nats)

    # A backlog: outputs made without the cluster, then the same engine with stream_outputs.
    data = os.path.join(work, "backlog")
    subprocess.run([SHOAL, "run", config(os.path.join(work, "plain.toml"), "", "1ms", free_port()), "--data", data,
                    "--for", f"{SECONDS}s"], capture_output=True, check=True, timeout=120)
    backlog = sum(1 for line in subprocess.run([SHOAL, "export", data, "--outputs"], capture_output=True, text=True,
                                               check=True).stdout.splitlines()
                  if json.loads(line)["node"] in ("ret", "fast"))
    eng = subprocess.Popen([SHOAL, "run", config(os.path.join(work, "cluster.toml"), servers, "1h", free_port()),
                            "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(SCRIPT, "the engine answering", lambda: admin(data, "cluster"), timeout=60)
    # Its journal goes first (an output waits for the records it was made from): timed from
    # when the stream holds all of it.
    wait(SCRIPT, "the journal in the stream", lambda: admin(data, "cluster").get("lag", 1) == 0, timeout=600)
    t0 = time.monotonic()
    sent0 = admin(data, "cluster").get("outputs", {}).get("sent", 0)
    wait(SCRIPT, "the backlog in the stream", lambda: admin(data, "cluster").get("outputs", {}).get("sent", 0) >= backlog,
         timeout=600)
    seconds = time.monotonic() - t0
    eng.terminate()
    eng.wait(timeout=60)
    print(f"cluster_outputs_backlog {backlog}")
    print(f"cluster_outputs_backlog_per_s {(backlog - sent0) / seconds:.0f}  (batches of 256, each acknowledged "
          f"by R3; {sent0} sent while the journal went)")

    # Live: a ZeroMQ subscriber and a stream reader of the same engine, each arrival timed.
    live = os.path.join(work, "live")
    port = free_port()
    cfg = config(os.path.join(work, "live.toml"), servers, "4ms", port)
    eng = subprocess.Popen([SHOAL, "run", cfg, "--data", live], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"fast")
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.connect(f"tcp://127.0.0.1:{port}")
    at_zmq, at_stream = {}, {}
    tail = subprocess.Popen([SHOAL, "tail", "--cluster", cfg, "--from-stream", "--json", "--width", "0", "fast"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def read_stream():
        for line in tail.stdout:
            at_stream[json.loads(line)["seq"]] = time.monotonic()

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    wait(SCRIPT, "the engine answering", lambda: admin(live, "cluster"), timeout=60)
    first = (time.monotonic(), node_outputs(live))
    end = time.monotonic() + SECONDS + 1
    while time.monotonic() < end:
        if sub.poll(20):
            _, body = sub.recv_multipart()
            at_zmq[msgpack.unpackb(body, raw=False)["seq"]] = time.monotonic()
    last = (time.monotonic(), node_outputs(live))
    # The last ones reach the stream a little later.
    wait(SCRIPT, "the stream reader catching up", lambda: max(at_zmq, default=0) in at_stream, timeout=30)
    eng.terminate()
    eng.wait(timeout=60)
    tail.terminate()
    tail.wait(timeout=10)
    # The first second is left out: ZeroMQ subscriptions and the stream reader settle meanwhile.
    settled = min(at_zmq) + 250
    lags = [(at_stream[s] - at_zmq[s]) * 1e3 for s in at_zmq if s in at_stream and s >= settled]
    print(f"cluster_outputs_live_per_s {(last[1] - first[1]) / (last[0] - first[0]):.0f}  (two nodes, 48 assets with books, a scan every 4 ms)")
    print(f"cluster_outputs_stream_after_zmq_p50 {percentile(lags, 50):.1f} ms  ({len(lags)} outputs of fast)")
    print(f"cluster_outputs_stream_after_zmq_p99 {percentile(lags, 99):.1f} ms")
finally:
    cluster_down(nats)
    shutil.rmtree(work, ignore_errors=True)
