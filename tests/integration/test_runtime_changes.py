"""Durability issue, acceptance 3 (and the warm start of point 4 on a chain): strategy changes
made on a running engine are part of the record.

A run starts with strategy alpha; beta is submitted through `shoal admin` (inline text), then
alpha is removed. Then:
- `shoal replay` of the data dir gives parity on every node, byte for byte (the changes are
  journaled and applied at the same journal position);
- beta's new nodes were warmed from stored history: every output of beta.slow (an ema, whose
  state reaches back to the first bucket) and of beta.zslow (a zscore over it: a new node over a
  new node) equals that of a run that had beta from the start;
- a restart brings beta back and not alpha's removed nodes, reuses no output seq, and the
  snapshot endpoint and admin `config` show the current graph."""
import json
import os
import shutil
import signal
import subprocess
import time

import msgpack
import zmq

from harness import SOURCE_DIR, check, free_port, run, start, wait_for, workdir, wait_live

wd = workdir()
shared = os.path.join(SOURCE_DIR, "tests/data/configs/shared")
for f in ("alpha.toml", "beta.toml"):
    shutil.copy(os.path.join(shared, f), wd)
base = open(os.path.join(shared, "engine.toml")).read()
port, snap = free_port(), free_port()
base = base.replace("tcp://127.0.0.1:15571", f"tcp://127.0.0.1:{port}")
base = base.replace('[engine]\n', f'[engine]\nsnapshot = "tcp://127.0.0.1:{snap}"\n', 1)
cfg = os.path.join(wd, "engine.toml")
open(cfg, "w").write(base.replace('strategies = ["alpha.toml", "beta.toml"]', 'strategies = ["alpha.toml"]'))
both = os.path.join(wd, "both.toml")
open(both, "w").write(base)
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")


def admin(*args):
    r = run(["admin", "--socket", sock, "--json", *args])
    check(r.returncode == 0, f"admin {args}: {r.stdout}{r.stderr}")
    return json.loads(r.stdout)


def outputs(d):
    lines = run(["export", d, "--outputs"]).stdout.splitlines()
    by = {}
    for o in map(json.loads, lines):
        by.setdefault(o["node"], []).append(o)
    return by


def scans_in(d):
    return run(["export", d, "--journal"]).stdout.count('"stream":"market.scan"')


eng = start(["run", cfg, "--data", data, "--checkpoint-every", "40"], stderr=subprocess.PIPE, text=True)
wait_for(lambda: os.path.exists(sock) and scans_in(data) > 150, what="the first 150 buckets")
wait_live(sock)
diff = admin("submit", os.path.join(wd, "beta.toml"))
check(diff["ok"] and len(diff["new"]) == 2, diff)
at_submit = scans_in(data)
wait_for(lambda: scans_in(data) > at_submit + 100, what="100 buckets after the submit")
check(admin("remove", "alpha")["ok"], "remove alpha")
at_remove = scans_in(data)
wait_for(lambda: scans_in(data) > at_remove + 100, what="100 buckets after the remove")
eng.send_signal(signal.SIGINT)
_, err = eng.communicate(timeout=30)
check(eng.returncode == 0, err)
journal = run(["export", data, "--journal"]).stdout
check(journal.count('"control":"submit"') == 1 and journal.count('"control":"remove"') == 1,
      "the changes are journaled")

# Replay gives parity on every node. A journal that changes the graph is replayed with actors
# (the inline graph cannot change), without being asked.
digest = os.path.join(wd, "replay.json")
report = os.path.join(wd, "replay-report.json")
r = run(["replay", data, "--digest", digest, "--report", report])
check(r.returncode == 0, r.stderr)
check(json.load(open(report))["inline"] is False, "a journal with controls replayed inline")
r = run(["parity", data, digest])
check(r.returncode == 0, f"replay differs from the live run:\n{r.stdout}")

# Warm start: beta's new nodes equal a run that had beta from the start.
full = os.path.join(wd, "full")
r = run(["replay", data, "--config", both, "--out", full])
check(r.returncode == 0, r.stderr)
live, ref = outputs(data), outputs(full)
for node in ("beta.slow", "beta.zslow"):
    got = {o["bucket"]: o["value"] for o in live[node]}
    want = {o["bucket"]: o["value"] for o in ref[node]}
    check(len(got) > 100, f"{node}: only {len(got)} outputs")
    check(min(got) == min(b for b in want if b >= min(got)), f"{node}: a bucket missing at the start")
    bad = [b for b in got if got[b] != want.get(b)]
    check(not bad, f"{node}: {len(bad)} of {len(got)} outputs differ from a run with beta from the "
                   f"start, first at bucket {min(bad) if bad else None}")
check(live["beta.slow"][0]["seq"] == 1, "a new NodeID's seqs start at 1")

# Restart: beta is back, alpha's removed nodes are not; no seq reused; snapshot and config
# follow the current graph.
eng = start(["run", cfg, "--data", data, "--checkpoint-every", "40"], stderr=subprocess.PIPE, text=True)
before = scans_in(data)
wait_for(lambda: os.path.exists(sock) and scans_in(data) > before + 50, what="the restarted run")
wait_live(sock)
conf = admin("config")
check(list(conf["runtime"]["submitted"]) == ["beta"] and conf["runtime"]["removed"] == ["alpha"], conf)
names = {n["name"] for n in admin("nodes")["nodes"]}
check("beta.zslow" in names and "alpha.zz" not in names and "alpha.slow" not in names, sorted(names))
ctx = zmq.Context()
req = ctx.socket(zmq.REQ)
req.setsockopt(zmq.RCVTIMEO, 5000)
req.connect(f"tcp://127.0.0.1:{snap}")
req.send(msgpack.packb({"topic": "beta.zslow", "n": 3}))
ans = msgpack.unpackb(req.recv())
check(ans["ok"] and len(ans["outputs"]) == 3, f"snapshot of a submitted topic: {ans}")
req.send(msgpack.packb({"topic": "alpha.zz", "n": 3}))
ans = msgpack.unpackb(req.recv())
check(not ans["ok"], f"snapshot of a removed topic: {ans}")
eng.send_signal(signal.SIGINT)
_, err = eng.communicate(timeout=30)
check(eng.returncode == 0, err)
for node, outs in outputs(data).items():
    seqs = [o["seq"] for o in sorted(outs, key=lambda o: o["bucket"])]
    check(seqs == sorted(set(seqs)), f"{node}: an output seq was reused or went back: {seqs[-5:]}")
after = outputs(data)
check(len(after["beta.zslow"]) > len(live["beta.zslow"]), "beta kept running after the restart")
r = run(["replay", data, "--digest", digest + "2"])
check(r.returncode == 0 and run(["parity", data, digest + "2"]).returncode == 0,
      "parity after the restart")
print(f"ok: submit at bucket {at_submit}, remove at {at_remove}; replay identical; warm starts "
      "equal a run from the start; restart restores the strategies")
