"""Clients issue, acceptance 2: `pip install ./clients/python` into a fresh venv (with system site
packages: Debian's python3-zmq, -msgpack, -numpy, -pandas, -lmdb), then, against a live engine fed
a fabricated journal:
- the README's Python examples receive outputs;
- a subscriber that stops and starts again with `resume` (the seqs it had) continues with no gap
  and no duplicate, the missed outputs taken from the snapshot endpoint;
- a subscriber that outlives a restart of the engine reconnects and misses nothing;
- the admin client pauses and resumes a node;
- read_outputs returns one row per (bucket, asset) in tidy form, equal to `shoal export`, and
  one column per asset in wide form."""
import json
import os
import re
import subprocess
import time

from client_engine import client_engine
from harness import SHOAL, SOURCE_DIR, check, run, workdir, wait_live

wd = workdir()
venv = os.path.join(wd, "venv")
subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv], check=True)
py = os.path.join(venv, "bin", "python")
env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", os.path.join(SOURCE_DIR, "clients/python")],
                   capture_output=True, text=True, env=env, timeout=300)
check(r.returncode == 0, f"pip install failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
where = subprocess.run([py, "-c", "import shoal_client; print(shoal_client.__file__)"], cwd=wd,
                       capture_output=True, text=True).stdout.strip()
check(where.startswith(venv), f"shoal_client should come from the venv, came from {where!r}")


def client(code, *args, timeout=60):
    r = subprocess.run([py, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd=wd)
    check(r.returncode == 0, f"client failed:\n{code}\n--- stderr\n{r.stderr[-3000:]}")
    return r.stdout


eng = client_engine(wd)
cfg, data, sock = eng.config, eng.data, eng.socket
PUB, SNAP, TRACKED = eng.pub, eng.snapshot, eng.tracked
engine_log = open(os.path.join(wd, "engine.log"), "w")
engine = subprocess.Popen([SHOAL, "run", cfg, "--data", data, "--for", "10s"], stderr=engine_log)
wait_live(sock)

# The README's examples, with their ports changed to this engine's.
readme = open(os.path.join(SOURCE_DIR, "README.md")).read()
blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
check(blocks and all("shoal_client" in b for b in blocks), "every README Python example uses shoal_client")
for b in blocks:
    # In one pass: one replacement after another would change a port just put in (a PUB on
    # port 55577 begins with the README's snapshot address).
    ours = {"5556": PUB, "5557": SNAP, "5558": TRACKED}
    code = re.sub(r"tcp://127\.0\.0\.1:(555[678])\b", lambda m: ours[m.group(1)], b)
    code = code.replace("./shoal-data/quickstart", data)
    if "read_outputs" in code:
        continue  # reads a finished data dir: below
    out = client(code)
    check(re.search(r"^z \d+ ", out, re.M), f"README example printed {out!r}")

# Stop after some outputs, start again with the seqs we had: no gap, no duplicate.
FIRST = """
import json, sys
from shoal_client import Subscriber
with Subscriber(sys.argv[1], ["z", "ret"], snapshot=sys.argv[2], catch_up=5) as sub:
    seen = {}
    for out in sub:
        seen.setdefault(out.node, []).append(out.seq)
        if sum(map(len, seen.values())) >= 60:
            break
    print(json.dumps({"seen": seen, "last": sub.last_seq, "gaps": sub.gaps, "filled": sub.filled}))
"""
SECOND = """
import json, sys, time
from shoal_client import Subscriber
with Subscriber(sys.argv[1], ["z", "ret"], snapshot=sys.argv[2], resume=json.loads(sys.argv[3])) as sub:
    seen = {}
    for out in sub:
        seen.setdefault(out.node, []).append(out.seq)
        if min(len(seen.get("z", [])), len(seen.get("ret", []))) >= 100:
            break
    print(json.dumps({"seen": seen, "gaps": sub.gaps, "filled": sub.filled,
                      "duplicates": sub.duplicates}))
"""
first = json.loads(client(FIRST, PUB, SNAP))
check(not first["gaps"], f"first subscriber saw gaps: {first['gaps']}")
check(first["filled"] >= 5, f"catch_up=5 yields each topic's last 5 first: filled {first['filled']}")
for node, seqs in first["seen"].items():
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{node}: {seqs}")
    # last_seq is what the caller was given, not what was queued behind it.
    check(seqs[-1] == first["last"][node], f"{node}: last_seq {first['last'][node]}, last yielded {seqs[-1]}")
time.sleep(1.0)  # the engine goes on publishing (~200 buckets) while nobody listens
second = json.loads(client(SECOND, PUB, SNAP, json.dumps(first["last"])))
check(not second["gaps"], f"resumed subscriber saw gaps: {second['gaps']}")
for node, seqs in second["seen"].items():
    check(seqs[0] == first["last"][node] + 1, f"{node}: resumed at {seqs[0]}, had {first['last'][node]}")
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{node}: not contiguous: {seqs[:20]}…")
check(second["filled"] >= 100, f"the missed outputs come from the snapshot, filled {second['filled']}")

# The admin client: pause and resume a node.
ADMIN = """
import sys
from shoal_client import Admin
with Admin(sys.argv[1]) as admin:
    states = {n["name"]: n["state"] for n in admin.nodes()}
    assert states["z"] == "RUNNING", states
    admin.pause("z")
    paused = admin.state("z")
    admin.resume("z")
    print(paused, admin.state("z"), "shoal_node_state" in admin.metrics())
"""
out = client(ADMIN, sock).split()
check(out == ["PAUSED", "RUNNING", "True"], f"admin client: {out}")

# A subscriber that outlives a restart of the engine: it reconnects, takes what it missed from
# the snapshot endpoint, and sees every seq once.
ACROSS = """
import json, sys
from shoal_client import Subscriber
with Subscriber(sys.argv[1], ["z"], snapshot=sys.argv[2]) as sub:
    print("ready", flush=True)
    seqs, after = [], None
    while True:
        out = sub.receive(timeout=60)
        assert out is not None, "nothing for 60 s"
        seqs.append(out.seq)
        if sub.reconnects and after is None:
            after = len(seqs)
        if after is not None and len(seqs) >= after + 100:
            break
    print(json.dumps({"seqs": seqs, "gaps": sub.gaps, "reconnects": sub.reconnects}))
"""
across = subprocess.Popen([py, "-c", ACROSS, PUB, SNAP], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, cwd=wd)
check(across.stdout.readline().strip() == "ready", "the subscriber did not start")
engine.wait(timeout=30)
check(engine.returncode == 0, f"engine failed: see {engine_log.name}")
time.sleep(0.5)  # the engine is gone for a while: its outputs resume only after the restart
engine = subprocess.run([SHOAL, "run", cfg, "--data", data, "--for", "4s"], capture_output=True,
                        text=True, timeout=60)
check(engine.returncode == 0, engine.stderr)
stdout, stderr = across.communicate(timeout=60)
check(across.returncode == 0, f"subscriber across the restart failed: {stderr}")
res = json.loads(stdout)
seqs = res["seqs"]
check(res["reconnects"] >= 1, f"no reconnect seen: {res}")
check(not res["gaps"] and seqs == list(range(seqs[0], seqs[0] + len(seqs))),
      f"seqs across the restart not contiguous: gaps {res['gaps']}")

# read_outputs: tidy rows equal `shoal export`; wide has one column per asset.
exported = [json.loads(l) for l in run(["export", data, "--outputs"]).stdout.splitlines()]
z_out = [o for o in exported if o["node"] == "z"]
check(len(z_out) > 300, f"z has {len(z_out)} stored outputs")
READ = """
import json, sys
from shoal_client import read_outputs
long = read_outputs(sys.argv[1], node="z")
wide = read_outputs(sys.argv[1], node="z", form="wide")
some = read_outputs(sys.argv[1], node="z", start=int(sys.argv[2]), end=int(sys.argv[3]))
print(json.dumps({
    "columns": list(long.columns), "dtype": str(long["bucket"].dtype),
    "rows": [[int(r.bucket.value), r.node, int(r.seq), r.asset, r.field, r.value]
             for r in long.itertuples()],
    "unique": bool(not long.duplicated(["bucket", "asset"]).any()),
    "wide": list(wide.shape), "wide_columns": [str(c) for c in wide.columns],
    "some_buckets": sorted(set(int(b.value) for b in some["bucket"])),
}))
"""
lo, hi = z_out[10]["bucket"], z_out[19]["bucket"]
got = json.loads(client(READ, data, str(lo), str(hi)))
check(got["columns"] == ["bucket", "node", "seq", "asset", "field", "value"], got["columns"])
check(got["dtype"] == "datetime64[ns]", got["dtype"])
check(got["unique"], "one row per (bucket, asset)")
want = []
for o in z_out:
    v = o["value"]
    want += [[o["bucket"], "z", o["seq"], a, "values", x] for a, x in zip(v["assets"], v["values"])]
rows = sorted(got["rows"], key=lambda r: (r[0], r[3]))
want.sort(key=lambda r: (r[0], r[3]))
check(len(rows) == len(want), f"{len(rows)} rows, export has {len(want)} (bucket, asset) values")
bad = [(r, w) for r, w in zip(rows, want) if r[:5] != w[:5] or not (r[5] == w[5] or (r[5] != r[5] and w[5] is None))]
check(not bad, f"read_outputs differs from export: {bad[:3]}")
assets = sorted(set(r[3] for r in want))
check(got["wide"] == [len(z_out), len(assets)] and got["wide_columns"] == assets,
      f"wide form {got['wide']} {got['wide_columns']}")
check(got["some_buckets"] == [o["bucket"] for o in z_out[10:20]], "start/end select buckets, inclusive")
# `shoal export --tidy` applies the same rule: its CSV, read by pandas, equals read_outputs.
import io
import pandas as pd
from datetime import datetime, timezone


def iso(ns):
    return datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


r = run(["export", data, "--outputs", "--node", "z", "--tidy", "--format", "csv",
         "--from", iso(lo), "--to", str(hi)])
check(r.returncode == 0, r.stderr)
csv = pd.read_csv(io.StringIO(r.stdout), float_precision="round_trip")  # the exact doubles
check(list(csv.columns) == ["bucket", "node", "seq", "asset", "field", "value"], list(csv.columns))
window = [w for w in want if lo <= w[0] <= hi]
check(len(csv) == len(window) == 10 * len(assets), f"--from/--to: {len(csv)} rows, want {len(window)}")
for (_, c), w in zip(csv.iterrows(), window):
    same = c["value"] == w[5] or (pd.isna(c["value"]) and w[5] is None)
    check(c["bucket"] == iso(w[0]) and (c["node"], c["seq"], c["asset"], c["field"]) == tuple(w[1:5]) and same,
          f"export --tidy row {list(c)} != {w}")
flat = pd.read_csv(io.StringIO(run(["export", data, "--outputs", "--node", "z", "--format", "csv"]).stdout))
check(list(flat.columns) == ["bucket", "node", "id", "seq"] + [f"values[{a}]" for a in assets]
      and len(flat) == len(z_out), f"flattened CSV: {list(flat.columns)}, {len(flat)} rows")
bad = run(["export", data, "--outputs", "--from", "yesterday"])
check(bad.returncode == 2 and '--from: "yesterday" is not a time' in bad.stderr, bad.stderr)

# The README's read_outputs example, on this data dir.
for b in blocks:
    if "read_outputs" in b:
        out = client(b.replace("./shoal-data/quickstart", data))
        check("values" in out and "A0" in out, f"README read_outputs example printed {out!r}")
print("ok:", len(rows), "tidy rows;", len(seqs), "outputs across an engine restart;", second["filled"], "outputs caught up after a restart of the subscriber")
