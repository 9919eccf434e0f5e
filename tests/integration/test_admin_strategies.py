"""Admin issue acceptance 2: submitting a second strategy that shares 3 nodes with the running
one spawns only its new nodes (actor count checked) and the diff lists the 3 reused ids;
removing the first strategy keeps the shared nodes emitting with contiguous seqs."""
import json
import os
import shutil
import socket
import subprocess
import time

import msgpack
import zmq

from harness import SHOAL, SOURCE_DIR, check, free_port, workdir

wd = workdir()
src = os.path.join(SOURCE_DIR, "tests/data/configs/shared")
for f in ("alpha.toml", "beta.toml"):
    shutil.copy(os.path.join(src, f), wd)
port = free_port()
text = open(os.path.join(src, "engine.toml")).read()
text = text.replace('strategies = ["alpha.toml", "beta.toml"]', 'strategies = ["alpha.toml"]')
text = text.replace('publish = "tcp://127.0.0.1:15571"', f'publish = "tcp://127.0.0.1:{port}"')
cfg = os.path.join(wd, "engine.toml")
open(cfg, "w").write(text)
data = os.path.join(wd, "data")

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
for topic in (b"alpha.ret", b"beta.returns", b"alpha.slow"):
    sub.setsockopt(zmq.SUBSCRIBE, topic)
sub.connect(f"tcp://127.0.0.1:{port}")
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "30s", "--data", data], stderr=subprocess.PIPE, text=True)
sock_path = os.path.join(data, "shoal.sock")
seen = {}


def pump(seconds):
    end = time.time() + seconds
    while time.time() < end:
        if sub.poll(20):
            topic, body = sub.recv_multipart()
            seen.setdefault(topic.decode(), []).append(msgpack.unpackb(body)["seq"])


def ask(req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(sock_path)
    s.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(1 << 20)
    s.close()
    return json.loads(buf)


pump(2.0)
check(os.path.exists(sock_path), "admin socket")
before = ask({"cmd": "nodes"})["nodes"]
check(len(before) == 5 + 2, f"alpha alone: 5 nodes + 2 streams, got {len(before)}")
ids = {n["name"]: n["id"] for n in before}

diff = ask({"cmd": "submit", "file": "beta.toml"})
check(diff["ok"], diff)
check(sorted(diff["reused"]) == sorted([ids["alpha.ret"], ids["alpha.fast"], ids["alpha.z"]]), diff)
check(len(diff["new"]) == 2, f"only beta's 2 new nodes are spawned: {diff}")
check(sorted(diff["topics"]) == ["beta.quick", "beta.returns", "beta.score", "beta.slow", "beta.zslow"], diff)
after = ask({"cmd": "nodes"})["nodes"]
check(len(after) == 7 + 2, f"7 node actors + 2 streams after submit, got {len(after)}")
again = ask({"cmd": "submit", "file": "beta.toml"})
check(not again["ok"] and "already running" in again["error"], again)
pump(2.0)
check(len(seen.get("beta.returns", [])) > 50, "the shared node publishes under beta's name too")

removed = ask({"cmd": "remove", "strategy": "alpha"})
check(removed["ok"], removed)
check(len(removed["removed"]) == 2 and len(removed["kept"]) == 3, removed)
check(len(ask({"cmd": "nodes"})["nodes"]) == 5 + 2, "alpha's own nodes stopped")
pump(0.5)  # what was published before the remove is still on its way
n_slow = len(seen.get("alpha.slow", []))
check(n_slow > 0, "alpha.slow published before the remove (or its silence after would prove nothing)")
n_returns = len(seen["beta.returns"])
pump(2.0)
engine.terminate()
err = engine.communicate(timeout=30)[1]
check(engine.returncode == 0, err)

check(len(seen["beta.returns"]) > n_returns + 50, "shared nodes keep emitting after alpha is removed")
check(len(seen.get("alpha.slow", [])) == n_slow, "alpha's own nodes stop publishing")
s = seen["beta.returns"]
check(s == list(range(s[0], s[0] + len(s))), "beta.returns seqs contiguous across submit and remove")
check(s[0] > 1, "beta.returns continued the shared node's seq (it was reused, not restarted)")
print("ok:", {k: (v[0], v[-1], len(v)) for k, v in seen.items()})
