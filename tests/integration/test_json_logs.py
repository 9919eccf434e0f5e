"""Admin issue: structured logging — `--log-format json` makes every stderr line a JSON object
{ts, level, msg}; node log lines name their node (a failing node's line names it)."""
import json
import os

from harness import SOURCE_DIR, check, config_with_port, free_port, run, workdir

wd = workdir()
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml"), free_port(), wd)
r = run(["--log-format", "json", "run", cfg, "--for", "1500ms", "--no-data"])
check(r.returncode == 0, r.stderr)
lines = [l for l in r.stderr.splitlines() if l.strip()]
check(len(lines) >= 2, f"expected log lines, got {lines}")
for line in lines:
    obj = json.loads(line)  # every line is one JSON object
    check(set(obj) == {"ts", "level", "msg"}, obj)
check(any("spawned 3 node actors" in json.loads(l)["msg"] for l in lines), lines)
text = run(["run", cfg, "--for", "1s", "--no-data"])
check(any(l.split()[1:2] == ["info"] for l in text.stderr.splitlines()), "text logs by default")
print("ok:", len(lines), "JSON log lines")
