"""Reference tests, in the spirit of ClickHouse's `.reference` files: adding a regression means
adding files, not code.

- Every `scenarios/<name>/reference/` holds `fabricate.args` (the `shoal fabricate` arguments of
  its input) and `digests.json` (every node's wire digest). The scenario's `graph.toml` is
  replayed over that input with `shoal replay --digest`; the digests must be equal.
- Every `tests/data/dirs/<name>/` holds a data dir recorded by an earlier engine
  (`data.mdb.gz`) and its `digests.json`: today's engine replays it to the same digests.
- Every `tests/data/configs/<case>.toml` with a `<case>.reference` beside it is a broken config:
  `shoal plan` and `shoal run` exit 2 with exactly the reference's one line.

    tests/integration/test_references.py [--update]   (--update rewrites the references)
"""
import glob
import gzip
import json
import os
import shutil
import sys

from harness import SOURCE_DIR, check, run, workdir

update = "--update" in sys.argv
wd = workdir()
failures = []


def compare_digests(label, got_path, ref_path):
    if update:
        shutil.copy(got_path, ref_path)
        print("updated", ref_path)
        return
    r = run(["parity", ref_path, got_path])
    if r.returncode != 0:
        failures.append(f"{label}: digests differ from {ref_path}\n{r.stdout}{r.stderr}")
    else:
        nodes = len(json.load(open(ref_path))["nodes"])
        print(f"ok: {label}: {nodes} nodes equal their reference digests")


for ref_dir in sorted(glob.glob(os.path.join(SOURCE_DIR, "scenarios/*/reference"))):
    scenario = os.path.basename(os.path.dirname(ref_dir))
    args = open(os.path.join(ref_dir, "fabricate.args")).read().split()
    journal = os.path.join(wd, scenario)
    r = run(["fabricate", *args, "--out", journal])
    check(r.returncode == 0, f"{scenario}: fabricate {args}: {r.stderr}")
    got = os.path.join(wd, scenario + ".json")
    graph = os.path.join(SOURCE_DIR, "scenarios", scenario, "graph.toml")
    r = run(["replay", journal, "--config", graph, "--digest", got])
    check(r.returncode == 0, f"{scenario}: replay --digest: {r.stderr}")
    compare_digests(f"scenario {scenario}", got, os.path.join(ref_dir, "digests.json"))

for recorded in sorted(glob.glob(os.path.join(SOURCE_DIR, "tests/data/dirs/*/data.mdb.gz"))):
    name = os.path.basename(os.path.dirname(recorded))
    data = os.path.join(wd, "dir-" + name)
    os.makedirs(data)
    with gzip.open(recorded) as src, open(os.path.join(data, "data.mdb"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    got = os.path.join(wd, "dir-" + name + ".json")
    r = run(["replay", data, "--digest", got])
    check(r.returncode == 0, f"recorded dir {name}: replay --digest: {r.stderr}")
    compare_digests(f"recorded dir {name}", got, os.path.join(os.path.dirname(recorded), "digests.json"))

configs = os.path.join(SOURCE_DIR, "tests/data/configs")
for ref in sorted(glob.glob(os.path.join(configs, "*.reference"))):
    case = os.path.basename(ref)[: -len(".reference")]
    for cmd in (["plan", case + ".toml"], ["run", case + ".toml", "--for", "1s", "--no-data"]):
        r = run(cmd, cwd=configs)
        if update and cmd[0] == "plan":
            open(ref, "w").write(r.stderr)
            print("updated", ref)
            continue
        expected = open(ref).read()
        if r.returncode != 2 or r.stderr != expected or r.stdout != "":
            failures.append(f"config {case} ({cmd[0]}): exit {r.returncode}, stderr:\n{r.stderr}"
                            f"expected exit 2 and:\n{expected}")
        else:
            print(f"ok: config {case} ({cmd[0]}): {expected.strip()}")

for f in failures:
    print("FAIL:", f)
check(not failures, f"{len(failures)} reference(s) differ")
