"""Digest replay and parity (hot-path issue, acceptance 2; durability issue, point 8):
- `shoal replay --digest` of a journal equals the wire digest of the outputs a stored replay
  writes — checked against an independent reading of the store (wire_digest.py, python3-lmdb);
- `shoal parity` takes data dirs and digest files on either side and names the first divergent
  node and where;
- between two data dirs, the first divergence is bucket-aligned: the first bucket where the two
  differ or where only one has an output (never records paired by position);
- replay runs the nodes inline (one thread, no actors) and `--actors` as a live engine does:
  the same digest either way, and `--report` says which ran."""
import json
import os
import re

from harness import SOURCE_DIR, check, run, workdir
from wire_digest import digest_of_dir

wd = workdir()
journal = os.path.join(wd, "journal")
check(run(["fabricate", "--seed", "5", "--assets", "8", "--buckets", "3000", "--no-books",
           "--out", journal]).returncode == 0, "fabricate")
graph = os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")

stored = os.path.join(wd, "stored")
r = run(["replay", journal, "--config", graph, "--out", stored])
check(r.returncode == 0, f"stored replay: {r.stderr}")
digest = os.path.join(wd, "digest.json")
r = run(["replay", journal, "--config", graph, "--digest", digest])
check(r.returncode == 0, f"replay --digest: {r.stderr}")
check(not os.path.exists(journal + ".replay"), "--digest stored outputs")

ours = json.load(open(digest))["nodes"]
independent = digest_of_dir(stored)
check(ours == independent, f"replay --digest differs from the stored outputs' digest:\n{ours}\n{independent}")

# Inline and actor replay: identical digests; --report names the mode and counts.
reports = {}
for mode in ("inline", "actors"):
    out, rep = os.path.join(wd, f"{mode}.json"), os.path.join(wd, f"{mode}-report.json")
    r = run(["replay", journal, "--config", graph, "--digest", out, "--report", rep] +
            (["--actors"] if mode == "actors" else []))
    check(r.returncode == 0, f"replay {mode}: {r.stderr}")
    check(json.load(open(out))["nodes"] == ours, f"{mode} replay digest differs")
    reports[mode] = json.load(open(rep))
check(reports["inline"]["inline"] is True and reports["actors"]["inline"] is False, reports)
for mode, rep in reports.items():
    check(rep["mode"] == "digest" and rep["records"] == rep["events"] == 3000 and
          rep["outputs"] == sum(n["outputs"] for n in ours.values()) and rep["seconds"] > 0 and
          rep["failed_nodes"] == 0, f"{mode} report: {rep}")
check(ours["ret"]["outputs"] == 2999 and len(ours["ret"]["marks"]) == 2, f"marks: {ours['ret']}")

# The same digest to stdout; parity dir vs digest file, both ways.
r = run(["replay", journal, "--config", graph, "--digest"])
check(r.returncode == 0 and json.loads(r.stdout)["nodes"] == ours, "replay --digest to stdout")
for a, b in ((stored, digest), (digest, stored), (digest, digest)):
    r = run(["parity", a, b])
    check(r.returncode == 0, f"parity {a} {b}: {r.stdout}{r.stderr}")

# A digest that differs after its first mark: parity says which node and narrows the range.
tampered = json.load(open(digest))
z = tampered["nodes"]["z"]
z["marks"][1][2] = "0" * 64
z["digest"] = "1" * 64
bad = os.path.join(wd, "tampered.json")
json.dump(tampered, open(bad, "w"))
r = run(["parity", digest, bad])
check(r.returncode == 1, f"parity of a tampered digest: exit {r.returncode}")
check(f"first divergence: node z after bucket {z['marks'][0][1]}" in r.stdout, r.stdout)
check("after output 1024" in r.stdout and "by output 2048" in r.stdout, r.stdout)

# Two dirs whose z differs from its first output on (window 21 starts a bucket later): the first
# divergence is A's first z bucket, where B has nothing.
changed = os.path.join(wd, "changed.toml")
open(changed, "w").write(open(graph).read().replace("window = 20", "window = 21"))
stored2 = os.path.join(wd, "stored2")
check(run(["replay", journal, "--config", changed, "--out", stored2]).returncode == 0, "replay 2")
r = run(["parity", stored, stored2])
check(r.returncode == 1, f"parity of different graphs: exit {r.returncode}\n{r.stdout}")
export = run(["export", stored, "--outputs"]).stdout.splitlines()
first_z = min(json.loads(l)["bucket"] for l in export if json.loads(l)["node"] == "z")
check(f"first divergence: node z at bucket {first_z}" in r.stdout, r.stdout)
zline = next(l for l in r.stdout.splitlines() if l.startswith("z "))
check(re.search(r"A (id \w+ )?seq 1 .*\| B \(none\)", zline), f"z line pairs outputs of different buckets: {zline}")
check(re.match(r"ema\s+\d+\s+\d+\s+yes", next(l for l in r.stdout.splitlines() if l.startswith("ema "))),
      "ema should be identical")

# Usage errors.
r = run(["replay", journal, "--digest", digest, "--out", os.path.join(wd, "x")])
check(r.returncode == 2 and "--digest" in r.stderr, f"--digest with --out: {r.returncode} {r.stderr}")
r = run(["parity", digest, os.path.join(wd, "nothing.json")])
check(r.returncode == 2 and "nothing.json" in r.stderr, f"missing digest file: {r.stderr}")
print("ok:", len(ours), "nodes; digest replay equals stored outputs; parity bucket-aligned")
