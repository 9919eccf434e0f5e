"""Mirror issue: a late joiner catches up — `shoal tail --catch-up N` prints the last N outputs
of each topic from the snapshot endpoint, then continues live with no gap and no duplicate."""
import json
import os
import subprocess
import time

from harness import SHOAL, SOURCE_DIR, check, free_port, run, workdir

wd = workdir()
pub, snap = free_port(), free_port()
cfg = os.path.join(wd, "engine.toml")
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"',
                    f'publish = "tcp://127.0.0.1:{pub}"\nsnapshot = "tcp://127.0.0.1:{snap}"')
open(cfg, "w").write(text)
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "8s", "--data", os.path.join(wd, "data")],
                          stderr=subprocess.PIPE, text=True)
time.sleep(3)  # join late: ~60 buckets in
tail = run(["tail", f"tcp://127.0.0.1:{pub}", "z", "ret", "--catch-up", "10", "--count", "40",
            "--json", "--snapshot", f"tcp://127.0.0.1:{snap}"])
engine.communicate(timeout=30)
check(tail.returncode == 0, f"tail failed: {tail.stderr}")
check("gap" not in tail.stderr, tail.stderr)
seqs = {}
for line in tail.stdout.splitlines():
    o = json.loads(line)
    seqs.setdefault(o["node"], []).append(o["seq"])
check(set(seqs) == {"z", "ret"}, str(seqs))
for node, s in seqs.items():
    check(s == list(range(s[0], s[0] + len(s))), f"{node}: not contiguous or duplicated: {s}")
    check(s[0] > 20, f"{node}: catch-up should start mid-stream, started at {s[0]}")
    check(len(s) >= 15, f"{node}: snapshot (10) and live outputs expected, got {len(s)}")

# A bad request gets a clear answer, not silence.
bad = run(["tail", f"tcp://127.0.0.1:{pub}", "nope", "--catch-up", "3", "--snapshot",
           f"tcp://127.0.0.1:{free_port()}", "--for", "1s"])
check(bad.returncode != 0, "an unreachable snapshot endpoint is an error")
print("ok:", {k: (v[0], v[-1]) for k, v in seqs.items()})
