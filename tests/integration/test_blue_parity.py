"""Node kinds acceptance 3: scenarios/blue runs live (every surface published) and under
replay with byte-identical parity for every node kind."""
import os
import subprocess
import time

import msgpack
import zmq

from harness import SHOAL, SOURCE_DIR, check, config_with_port, free_port, run, workdir

wd = workdir()
port = free_port()
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml"), port, wd)
live = os.path.join(wd, "live")

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(f"tcp://127.0.0.1:{port}")
proc = subprocess.Popen([SHOAL, "run", cfg, "--for", "12s", "--data", live], stderr=subprocess.PIPE, text=True)
last = {}
while proc.poll() is None:
    if sub.poll(100):
        topic, body = sub.recv_multipart()
        last[topic.decode()] = msgpack.unpackb(body, raw=False)
stderr = proc.communicate()[1]
check(proc.returncode == 0, f"blue live run failed: {stderr}")

surfaces = {"market.scan", "market.ob", "scanner", "selector", "dc", "ob", "acb", "mc", "esof",
            "posture", "sizing"}
check(surfaces <= set(last), f"missing surfaces: {sorted(surfaces - set(last))}")
s = last["sizing"]["value"]
check(set(s) >= {"asset", "direction", "posture", "esof_score", "boost", "beta", "mc_scale",
                 "ob_median_imbalance", "ob_agreement_pct", "dc_status", "size"}, str(s))
check(last["posture"]["value"]["posture"] in ("APEX", "STALKER", "TURTLE", "HIBERNATE"), "posture")
check(last["mc"]["value"]["status"] in ("GREEN", "ORANGE", "RED"), "mc status")
check(len(last["scanner"]["value"]["lambda_max"]) == 2, "scanner windows")

out = os.path.join(wd, "replay")
r = run(["replay", live, "--out", out])
check(r.returncode == 0, f"replay failed: {r.stderr}")
p = run(["parity", live, out])
check(p.returncode == 0, f"blue replay differs from live:\n{p.stdout}")
check("11 nodes, 11 identical, 0 differ" in p.stdout, p.stdout)
print("ok")
