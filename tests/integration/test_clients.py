"""Mirror issue acceptance 4: Python and Node clients receive and decode every node's outputs
with contiguous seqs; a slow client (one that stops reading for 5 s) does not slow the engine
or the other clients: the engine drops for it alone (it sees gaps, they see none). On the PUB
endpoint nobody can count those drops; on the tracked endpoint (publish_tracked) the engine
counts them per subscriber, and its count equals exactly what the slow client missed."""
import json
import os
import shutil
import subprocess
import time

from harness import SHOAL, SOURCE_DIR, check, free_port, node_subscriber, workdir

node = node_subscriber()

wd = workdir()
port, tracked_port = free_port(), free_port()
cfg = os.path.join(wd, "engine.toml")
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"', f'publish = "tcp://127.0.0.1:{port}"')
text = text.replace('pace = "50ms"', 'pace = "10ms"').replace("assets = 12", "assets = 48")
# A small send high-water mark: the engine drops for a subscriber that falls 1000 messages behind
# (the stalled client falls thousands behind; the others never should, even on a busy machine).
text = text.replace('[engine]\n', f'[engine]\npublish_hwm = 1000\npublish_tracked = "tcp://127.0.0.1:{tracked_port}"\n', 1)
open(cfg, "w").write(text)
ep, tracked = f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{tracked_port}"
py = os.path.join(SOURCE_DIR, "tests/clients/python/subscriber.py")
slow = ["--stall", "5", "--rcvhwm", "10", "--rcvbuf", "4096"]
SECONDS = "11"  # outlives the engine's 6 s run, so every output it sent is read
clients = {
    "python": [py, ep, "--seconds", SECONDS],
    "node": node + [ep, SECONDS],
    "slow": [py, ep, "--seconds", SECONDS] + slow,
    "python-tracked": [py, tracked, "--seconds", SECONDS, "--track", "python-tracked"],
    "node-tracked": node + [tracked, SECONDS, "node-tracked"],
    "slow-tracked": [py, tracked, "--seconds", SECONDS, "--track", "slow-tracked"] + slow,
}
clients = {name: subprocess.Popen(cmd if cmd[0] == "node" else ["/usr/bin/python3"] + cmd,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for name, cmd in clients.items()}
# Each client says when its socket is connecting (a Node process takes a while to boot on a
# loaded machine); the engine starts only then.
for name, p in clients.items():
    check(p.stderr.readline().strip() == "ready", f"{name} client did not start")
time.sleep(0.3)  # ZeroMQ's reconnect interval: the subscription reaches the engine as it binds
report = os.path.join(wd, "report.json")
t0 = time.time()
engine = subprocess.run([SHOAL, "run", cfg, "--for", "6s", "--data", os.path.join(wd, "data"),
                         "--report", report], capture_output=True, text=True, timeout=60)
check(engine.returncode == 0, engine.stderr)
outs = {name: p.communicate(timeout=30)[0] for name, p in clients.items()}
for name, out in outs.items():
    check(out.strip().startswith("{"), f"{name} client printed no summary: {out!r}")
results = {name: json.loads(out) for name, out in outs.items()}

rep = json.load(open(report))
scans = next(n for n in rep["nodes"] if "market.scan" in n["names"])["outputs"]
# 6 s at 10 ms per bucket is about 600 buckets; a blocked engine would make far fewer.
check(scans > 400, f"the engine emitted only {scans} scans in 6 s")
nodes = {"market.scan", "market.ob", "ret", "ema", "z"}
for name in ("python", "node", "python-tracked", "node-tracked"):
    r = results[name]
    check(set(r["topics"]) == nodes, f"{name}: topics {sorted(r['topics'])}")
    for topic, t in r["topics"].items():
        check(t["gaps"] == 0, f"{name}: {topic} has {t['gaps']} gaps")
        # Joining takes a ZeroMQ reconnect (~100 ms) after the engine binds: the first few may be
        # missed; after that, nothing.
        check(t["count"] >= 0.95 * scans, f"{name}: {topic} got {t['count']} of ~{scans}")
missed = {}
for name in ("slow", "slow-tracked"):
    r = results[name]
    check(r["received"] < results["python"]["received"], f"{name}: the stalled client got everything: {r['received']}")
    missed[name] = sum(t["missed"] for t in r["topics"].values())
    check(missed[name] > 0, f"{name} saw every output: the engine must have waited for it")

# The engine's own account of its tracked subscribers: what it queued for each is what each
# received, and what it dropped is exactly what each missed (zero for the fast ones).
subs = {s["name"]: s for s in rep["subscribers"]}
check(set(subs) == {"python-tracked", "node-tracked", "slow-tracked"}, f"subscribers {sorted(subs)}")
for name, s in subs.items():
    check(s["topics"] == [""] and s["connected"], f"{name}: {s}")
    check(s["sent"] == results[name]["received"], f"{name}: engine sent {s['sent']}, client got {results[name]['received']}")
    want = missed.get(name, 0)
    check(s["dropped"] == want, f"{name}: engine counted {s['dropped']} dropped, the client missed {want}")
print("ok:", {n: r["received"] for n, r in results.items()}, "missed", missed,
      "engine counted", {n: s["dropped"] for n, s in subs.items()})
