"""Acceptance: `shoal run` on loopback and a Python subscriber (Debian python3-zmq and
python3-msgpack) that decodes outputs of every node with contiguous seqs."""
import os
import subprocess
import time

import msgpack
import zmq

from harness import SHOAL, SOURCE_DIR, check, config_with_port, free_port, workdir

port = free_port()
wd = workdir()
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml"), port, wd)

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(f"tcp://127.0.0.1:{port}")  # connect first: ZeroMQ reconnects until the engine binds

engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "6s", "--data", os.path.join(wd, "data")], stderr=subprocess.PIPE, text=True)
seqs = {}
values = {}
deadline = time.time() + 20
while time.time() < deadline and engine.poll() is None:
    if sub.poll(200):
        topic, body = sub.recv_multipart()
        out = msgpack.unpackb(body, raw=False)
        check(set(out) == {"node", "id", "bucket", "seq", "value"}, f"unexpected keys {sorted(out)}")
        check(out["node"] == topic.decode(), "topic and node name differ")
        check(len(out["id"]) == 64, "node id is not 64 hex digits")
        seqs.setdefault(out["node"], []).append(out["seq"])
        values.setdefault(out["node"], []).append(out["value"])
stderr = engine.communicate(timeout=30)[1]
check(engine.returncode == 0, f"shoal run exited {engine.returncode}: {stderr}")

expected = {"market.scan", "market.ob", "ret", "ema", "z"}
check(set(seqs) == expected, f"topics seen {sorted(seqs)}, expected {sorted(expected)}")
for node, s in seqs.items():
    check(len(s) >= 5, f"{node}: only {len(s)} outputs")
    check(s == list(range(s[0], s[0] + len(s))), f"{node}: seqs not contiguous: {s[:10]}...")
for v in values["z"]:
    check(len(v["assets"]) == 12 and len(v["values"]) == 12, "z lists all 12 assets")
    check(all(isinstance(x, float) for x in v["values"]), "z values are floats")
for v in values["market.ob"]:
    check(all(set(book) == {"asset", "bid_px", "bid_qty", "ask_px", "ask_qty"} for book in v.values()),
          "ob buckets map asset -> book")
print("ok:", {k: len(v) for k, v in sorted(seqs.items())})
