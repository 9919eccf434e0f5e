"""Acceptance: two strategies sharing 3 of 5 nodes — `shoal plan` shows 7 distinct nodes and
reuse ratio 3/10; `shoal run` spawns 7 node actors (the count the engine reports)."""
import json
import os
import subprocess

import msgpack
import zmq

from harness import SHOAL, SOURCE_DIR, check, config_with_port, free_port, run, workdir

src = os.path.join(SOURCE_DIR, "tests/data/configs/shared/engine.toml")
plan = run(["plan", src])
check(plan.returncode == 0, f"plan failed: {plan.stderr}")
check("7 distinct nodes from 10 declared; reuse ratio 3/10" in plan.stdout, plan.stdout)

dot = run(["plan", src, "--dot"])
check(dot.returncode == 0 and dot.stdout.startswith("digraph shoal {"), "plan --dot")

wd = workdir()
port = free_port()
cfg = config_with_port(src, port, wd)
report = os.path.join(wd, "report.json")

# A deduped node publishes under each of its names, with the same seqs and values.
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
for topic in (b"alpha.ret", b"beta.returns"):
    sub.setsockopt(zmq.SUBSCRIBE, topic)
sub.connect(f"tcp://127.0.0.1:{port}")
proc = subprocess.Popen([SHOAL, "run", cfg, "--for", "2s", "--report", report, "--no-data"],
                        stderr=subprocess.PIPE, text=True)
got = {}
while proc.poll() is None:
    if sub.poll(100):
        topic, body = sub.recv_multipart()
        out = msgpack.unpackb(body, raw=False)
        got.setdefault(topic.decode(), {})[out["seq"]] = (out["id"], out["bucket"], out["value"])
stderr = proc.communicate()[1]
check(proc.returncode == 0, f"run failed: {stderr}")
check(set(got) == {"alpha.ret", "beta.returns"}, f"topics {sorted(got)}")
common = set(got["alpha.ret"]) & set(got["beta.returns"])
check(len(common) > 10, f"only {len(common)} seqs seen under both names")
check(all(got["alpha.ret"][s] == got["beta.returns"][s] for s in common), "names disagree")
r = subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr)
check("spawned 7 node actors and 2 stream actors" in r.stderr, r.stderr)
rep = json.load(open(report))
check(rep["node_actors"] == 7, f"node_actors {rep['node_actors']}")
check(rep["distinct"] == 7 and rep["declared"] == 10 and rep["reused"] == 3, str(rep))
shared = [n for n in rep["nodes"] if len(n["names"]) == 2]
check(len(shared) == 3, f"3 nodes shared by both strategies, got {len(shared)}")
check(all(n["outputs"] > 0 for n in rep["nodes"] if n["kind"] != "identity"), "every node emitted")
print("ok")
