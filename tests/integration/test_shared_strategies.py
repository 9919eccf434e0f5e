"""Acceptance: two strategies sharing 3 of 5 nodes — `shoal plan` shows 7 distinct nodes and
reuse ratio 3/10; `shoal run` spawns 7 node actors (the count the engine reports)."""
import json
import os

from harness import SOURCE_DIR, check, config_with_port, free_port, run, workdir

src = os.path.join(SOURCE_DIR, "tests/data/configs/shared/engine.toml")
plan = run(["plan", src])
check(plan.returncode == 0, f"plan failed: {plan.stderr}")
check("7 distinct nodes from 10 declared; reuse ratio 3/10" in plan.stdout, plan.stdout)

dot = run(["plan", src, "--dot"])
check(dot.returncode == 0 and dot.stdout.startswith("digraph shoal {"), "plan --dot")

wd = workdir()
cfg = config_with_port(src, free_port(), wd)
report = os.path.join(wd, "report.json")
r = run(["run", cfg, "--for", "2s", "--report", report])
check(r.returncode == 0, f"run failed: {r.stderr}")
check("spawned 7 node actors and 2 stream actors" in r.stderr, r.stderr)
rep = json.load(open(report))
check(rep["node_actors"] == 7, f"node_actors {rep['node_actors']}")
check(rep["distinct"] == 7 and rep["declared"] == 10 and rep["reused"] == 3, str(rep))
shared = [n for n in rep["nodes"] if len(n["names"]) == 2]
check(len(shared) == 3, f"3 nodes shared by both strategies, got {len(shared)}")
check(all(n["outputs"] > 0 for n in rep["nodes"] if n["kind"] != "identity"), "every node emitted")
print("ok")
