"""Build mode (issue 13), acceptance 1, 2 and 7 and the dry run of 3:

1. chain recorded live over several segments; `smooth`'s span changed; `shoal build`: only smooth
   and its downstream zs run (the report says so, and why), and the built dir equals
   `shoal replay --config NEW` of the same journal byte for byte (`shoal parity`); `shoal
   manifest` of the dir changes in exactly those two nodes' digests (issue 19, acceptance 3).
   A second build of the same config runs nothing.
2. ret's on_missing changed (the feed has no missing buckets, so ret's outputs stay the same):
   ret runs, and everything below it is reused by the firewall (new NodeIDs, outputs copied).
7. after a build, `shoal run NEW --data DIR` continues: output seqs go on from the built ones,
   and the dir then equals a replay of its whole journal through NEW (no warm-up gap).
3. (dry run) a journal without one segment's scans: that segment is impossible for every node,
   the later segments of the nodes below are blocked, and the exit status is 3."""
import json
import os
import shutil

from harness import (SOURCE_DIR, check, check_parity, config_with_port, free_port, parity_rows, replayed, run,
                     workdir)


def build(cfg, data, *extra):
    r = run(["build", cfg, "--data", data, "--segment", "10", "--json", *extra])
    check(r.stdout.startswith("{"), f"build printed no report: {r.stdout}\n{r.stderr}")
    return r.returncode, json.loads(r.stdout), r.stderr


def counts(report):
    return {n["name"]: n["counts"] for n in report["nodes"]}


wd = workdir()
chain = config_with_port(os.path.join(SOURCE_DIR, "tests/data/configs/chain.toml"), free_port(), wd)
text = open(chain).read()
live = os.path.join(wd, "live")
# 1 s buckets, 10 ms apart: ~4 s of running records ~400 buckets, 40 segments of 10 buckets.
r = run(["run", chain, "--for", "4s", "--data", live])
check(r.returncode == 0, f"live run failed: {r.stderr}")

# --- 1. a leaf-side change: only smooth and zs run -------------------------------------------
changed = os.path.join(wd, "changed.toml")
open(changed, "w").write(text.replace("params = { span = 10 }", "params = { span = 11 }"))
d1 = os.path.join(wd, "d1")
shutil.copytree(live, d1)

rc, plan, err = build(changed, d1, "--dry-run")
check(rc == 0, f"dry run: {rc} {err}")
segs = plan["segments"]
check(segs >= 3, f"at least 3 segments, got {segs}")
c = counts(plan)
check(c["smooth"] == {"run": segs}, f"smooth runs in every segment: {c}")
check(c["zs"] == {"pending": segs}, f"zs waits on smooth's outputs: {c}")
for name in ("market.scan", "ret", "side"):
    check(c[name] == {"done": segs}, f"{name} is done: {c}")
why = {n["name"]: n["why"] for n in plan["nodes"]}
check(list(why["smooth"]) == ["params (span) changed"], f"why: {why['smooth']}")

rc, rep, err = build(changed, d1)
check(rc == 0 and rep["complete"], f"build: {rc} {err}")
c = counts(rep)
check(c["smooth"] == {"run": segs} and c["zs"] == {"run": segs}, f"smooth and zs ran: {c}")
for name in ("market.scan", "market.ob", "ret", "side"):
    check(c[name] == {"done": segs}, f"{name} did not run: {c}")

ref = replayed(live, changed, os.path.join(wd, "replayed"))
rows = check_parity(d1, ref, "the built dir equals the replay", min_outputs=100)
check(set(rows) == {"market.scan", "market.ob", "ret", "side", "smooth", "zs"}, rows)

# Provenance (issue 19, acceptance 3): the manifests of the recorded dir and the built one differ
# in exactly the rebuilt node and its downstream, and the journal is the same.
m_live = json.loads(run(["manifest", live, "--json"]).stdout)
m_built = json.loads(run(["manifest", d1, "--json"]).stdout)
check(m_live["journal"] == m_built["journal"], "the build leaves the journal as it was")
changed_nodes = sorted(n for n in m_live["outputs"] if m_live["outputs"][n] != m_built["outputs"][n])
check(changed_nodes == ["smooth", "zs"], f"manifest digests that changed: {changed_nodes}")
check(m_built["graph_hash"] != m_live["graph_hash"], "the dir now records the new graph")

# Nothing changed since: nothing runs.
rc, again, err = build(changed, d1)
check(rc == 0, err)
check(all(set(n) == {"done"} for n in counts(again).values()), f"a no-change build: {again}")

# --- 2. the firewall: ret changes, its outputs do not -----------------------------------------
ffill = os.path.join(wd, "ffill.toml")
open(ffill, "w").write(text.replace('inputs = { in = "market.scan" }',
                                    'inputs = { in = "market.scan" }\non_missing = "ffill"'))
d2 = os.path.join(wd, "d2")
shutil.copytree(live, d2)
rc, rep, err = build(ffill, d2)
check(rc == 0, f"firewall build: {rc} {err}")
c = counts(rep)
check(c["ret"] == {"run": segs}, f"ret runs: {c}")
for name in ("smooth", "zs", "side"):
    check(c[name] == {"reused": segs}, f"{name} reused by the firewall: {c}")
ref2 = replayed(live, ffill, os.path.join(wd, "replayed-ffill"))
check_parity(d2, ref2, "reused outputs equal the replay's (new ids, same seqs)")

# And back: the original graph's outputs were retired, not lost; building it again brings them
# back (same ids, same bytes) without computing anything.
rc, rep, err = build(chain, d2)
check(rc == 0, f"build back: {rc} {err}")
c = counts(rep)
for name in ("ret", "smooth", "zs", "side"):
    # (a segment where a node had no outputs yet, its warm-up, has nothing to bring back)
    check(set(c[name]) <= {"reused", "done"} and c[name]["reused"] >= segs - 2,
          f"{name} back from retired: {c}")
check_parity(d2, live, "back to the recorded outputs")

# --- 7. continue live on the built dir --------------------------------------------------------
before = parity_rows(run(["parity", d1, d1]).stdout)
r = run(["run", changed, "--for", "2s", "--data", d1])
check(r.returncode == 0, f"run after build: {r.stderr}")
check("different graph" not in r.stderr, r.stderr)
after = parity_rows(run(["parity", d1, d1]).stdout)
for name in ("smooth", "zs"):
    check(after[name][0] > before[name][0], f"{name} continued: {before[name]} → {after[name]}")
r = run(["export", d1, "--outputs"])
check(r.returncode == 0, r.stderr)
seqs = [o["seq"] for o in map(json.loads, r.stdout.splitlines()) if o.get("node") == "smooth"]
check(seqs == list(range(1, len(seqs) + 1)), f"smooth's seqs continue without a gap: {seqs[-5:]}")
# And what it computed live after the build is what an uninterrupted run of NEW computes: the
# whole journal (recorded, then continued) replayed through NEW equals the dir, every node.
ref3 = replayed(d1, changed, os.path.join(wd, "replayed-continued"))
check_parity(d1, ref3, "built + continued live equals an uninterrupted replay")

print("ok")
