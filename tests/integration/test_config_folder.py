"""Everything under config/ runs: each engine file plans and replays a fabricated journal, each
strategy file is loaded by one of them, the desk's strategies share nodes (and the README says
how many), and the sizing chain produces sizing factors."""
import glob
import json
import os
import re

from harness import SOURCE_DIR, check, run, workdir

wd = workdir()
config = os.path.join(SOURCE_DIR, "config")
journal = os.path.join(wd, "journal")
r = run(["fabricate", "--out", journal, "--seed", "7", "--assets", "48", "--buckets", "400"])
check(r.returncode == 0, f"fabricate failed: {r.stderr}")

files = sorted(glob.glob(os.path.join(config, "**", "*.toml"), recursive=True))
strategies = [f for f in files if re.search(r"^\[strategy\]", open(f).read(), re.M)]
engines = [f for f in files if f not in strategies]
check(len(engines) >= 7 and len(strategies) >= 4,
      f"expected the engine, source and desk files and four strategies, got {engines} {strategies}")

listed = set()
digests = {}
for f in engines:
    rel = os.path.relpath(f, SOURCE_DIR)
    r = run(["plan", f])
    check(r.returncode == 0, f"shoal plan {rel}: {r.stderr}")
    text = open(f).read()
    for s in strategies:
        if os.path.relpath(s, os.path.dirname(f)) in text:
            listed.add(s)
    out = os.path.join(wd, os.path.basename(f) + ".json")
    r = run(["replay", journal, "--config", f, "--digest", out])
    check(r.returncode == 0, f"shoal replay --config {rel}: {r.stderr}")
    digests[rel] = json.load(open(out))["nodes"]
    print(f"ok: {rel} plans and replays ({sum(n['outputs'] for n in digests[rel].values())} outputs)")

check(listed == set(strategies),
      f"strategy files no engine file loads: {sorted(set(strategies) - listed)}")

# The desk: regime and sizing share four nodes, and the README says so.
r = run(["plan", os.path.join(config, "desk.toml")])
ratio = next(line for line in r.stdout.splitlines() if "reuse ratio" in line)
check("12 distinct nodes from 16 declared; reuse ratio 4/16" in ratio, ratio)
readme = open(os.path.join(SOURCE_DIR, "README.md")).read()
check("reuse ratio 4/16" in readme, "README.md should give the desk's reuse ratio (4/16)")
desk = digests["config/desk.toml"]
check(desk["sizing.sizing"]["outputs"] > 100, f"sizing produced {desk['sizing.sizing']['outputs']}")
check("sizing.scanner" not in desk and desk["regime.scanner"]["outputs"] > 0,
      "the scanner should run once, under its first name")
print(f"ok: {len(engines)} engine files, {len(strategies)} strategies; desk {ratio.strip()}")
