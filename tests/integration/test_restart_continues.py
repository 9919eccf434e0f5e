"""Acceptance (journal issue) 3: run, stop cleanly, restart on the same dir with the same feed
(a fabricated journal, replayed live by a `journal` source): the outputs equal those of an
uninterrupted run over the same inputs, with contiguous seqs."""
import json
import os

from harness import check, engine_config, journal_source, nodes_toml, run, workdir

wd = workdir()
feed = os.path.join(wd, "feed")
r = run(["fabricate", "--seed", "5", "--assets", "6", "--buckets", "400", "--out", feed])
check(r.returncode == 0, r.stderr)

# Same args → same journal, byte for byte.
feed2 = os.path.join(wd, "feed2")
run(["fabricate", "--seed", "5", "--assets", "6", "--buckets", "400", "--out", feed2])
j1 = run(["export", feed, "--journal"]).stdout
j2 = run(["export", feed2, "--journal"]).stdout
check(j1 == j2 and len(j1.splitlines()) > 400 * 2, "fabricate is deterministic")
first = json.loads(j1.splitlines()[0])
check(sorted(first) == ["payload", "seq", "stream", "ts"] and first["stream"] == "market.scan", str(first))

cfg, _ = engine_config(wd, "restart", journal_source(feed, "10ms"),
                       nodes_toml(("ret", "log_return", "market.scan"), ("smooth", "ema", "ret"),
                                  ("z", "zscore", "smooth")),
                       file_name="engine")

whole = os.path.join(wd, "whole")
r = run(["run", cfg, "--data", whole])  # stops by itself when the feed is delivered
check(r.returncode == 0 and "every source delivered its feed" in r.stderr, r.stderr)

parts = os.path.join(wd, "parts")
r = run(["run", cfg, "--data", parts, "--for", "1.5s", "--checkpoint-every", "1000"])
check(r.returncode == 0, r.stderr)
stopped_at = len(run(["export", parts, "--journal"]).stdout.splitlines())
check(0 < stopped_at < len(j1.splitlines()), f"first run should stop part-way, journaled {stopped_at}")
r = run(["run", cfg, "--data", parts])
check(r.returncode == 0, r.stderr)
check("restored" in r.stderr, "restart restores the checkpoint")

p = run(["parity", whole, parts])
check(p.returncode == 0, f"restart differs from the uninterrupted run:\n{p.stdout}")
outs = [json.loads(l) for l in run(["export", parts, "--outputs"]).stdout.splitlines()]
by_node = {}
for o in outs:
    by_node.setdefault(o["node"], []).append((o["bucket"], o["seq"]))
check(set(by_node) == {"market.scan", "market.ob", "ret", "smooth", "z"}, str(sorted(by_node)))
for node, seqs in by_node.items():
    s = [q for _, q in sorted(seqs)]
    check(s == list(range(1, len(s) + 1)), f"{node}: seqs not contiguous")
check(len(by_node["market.scan"]) == 400, "every scan bucket was emitted once")
print("ok: stopped after", stopped_at, "records")
