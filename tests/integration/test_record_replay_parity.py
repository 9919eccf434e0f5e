"""Acceptance (journal issue) 1 and 2: record the quickstart live for 20 s, replay at max three
times — parity byte-identical each time; replay with one node's parameter changed — parity
reports that node and its downstream as divergent and every other node as equal (exit 1)."""
import os
import re

from harness import SOURCE_DIR, check, config_with_port, free_port, parity_rows, run, workdir


wd = workdir()
live = os.path.join(wd, "live")

# 1. quickstart, 20 s live, then three replays
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml"), free_port(), wd)
r = run(["run", cfg, "--for", "20s", "--data", live])
check(r.returncode == 0, f"live run failed: {r.stderr}")
for i in range(3):
    out = os.path.join(wd, f"replay{i}")
    r = run(["replay", live, "--speed", "max", "--out", out])
    check(r.returncode == 0, f"replay {i} failed: {r.stderr}")
    check(re.search(r"replayed \d+ journal records", r.stderr), r.stderr)
    p = run(["parity", live, out])
    check(p.returncode == 0, f"replay {i} differs:\n{p.stdout}")
    rows = parity_rows(p.stdout)
    check(set(rows) == {"market.scan", "market.ob", "ret", "ema", "z"}, p.stdout)
    check(all(eq and a == b and a > 100 for a, b, eq in rows.values()), p.stdout)

# --out that already holds data is refused, not silently mixed
r = run(["replay", live, "--out", os.path.join(wd, "replay0")])
check(r.returncode == 2 and "already holds data" in r.stderr, r.stderr)

# 2. a changed parameter: that node and its downstream diverge, nothing else
chain_src = os.path.join(SOURCE_DIR, "tests/data/configs/chain.toml")
chain_dir = os.path.join(wd, "chain")
os.makedirs(chain_dir)
chain = config_with_port(chain_src, free_port(), chain_dir)
chain_live = os.path.join(wd, "chain-live")
r = run(["run", chain, "--for", "3s", "--data", chain_live])
check(r.returncode == 0, f"chain run failed: {r.stderr}")
changed = os.path.join(chain_dir, "changed.toml")
open(changed, "w").write(open(chain).read().replace("params = { span = 10 }", "params = { span = 11 }"))
out = os.path.join(wd, "chain-changed")
r = run(["replay", chain_live, "--config", changed, "--out", out])
check(r.returncode == 0, f"replay --config failed: {r.stderr}")
p = run(["parity", chain_live, out])
check(p.returncode == 1, f"parity should exit 1 on divergence, got {p.returncode}:\n{p.stdout}")
rows = parity_rows(p.stdout)
divergent = sorted(n for n, (_, _, eq) in rows.items() if not eq)
equal = sorted(n for n, (_, _, eq) in rows.items() if eq)
check(divergent == ["smooth", "zs"], f"divergent {divergent}\n{p.stdout}")
check(equal == ["market.ob", "market.scan", "ret", "side"], f"equal {equal}\n{p.stdout}")
check("bucket " in p.stdout, "the first divergent bucket is shown")
print("ok")
