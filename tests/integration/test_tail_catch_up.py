"""Mirror issue: a late joiner catches up — `shoal tail --catch-up N` prints the last N outputs
of each topic from the snapshot endpoint, then continues live with no gap and no duplicate,
from the PUB endpoint and from the tracked one (`--track NAME`)."""
import json
import os
import re
import subprocess
import time

from harness import SHOAL, SOURCE_DIR, check, free_port, run, workdir

wd = workdir()
pub, snap, tracked = free_port(), free_port(), free_port()
cfg = os.path.join(wd, "engine.toml")
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"',
                    f'publish = "tcp://127.0.0.1:{pub}"\nsnapshot = "tcp://127.0.0.1:{snap}"\n'
                    f'publish_tracked = "tcp://127.0.0.1:{tracked}"')
# Quarter-second buckets: tail shows their fraction.
text = text.replace('interval = "1s"', 'interval = "250ms"')
open(cfg, "w").write(text)
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "10s", "--data", os.path.join(wd, "data")],
                          stderr=subprocess.PIPE, text=True)
time.sleep(3)  # join late: ~60 buckets in
found = {}
for mode, extra in (("pub", [f"tcp://127.0.0.1:{pub}"]), ("tracked", [f"tcp://127.0.0.1:{tracked}", "--track", "late"])):
    tail = run(["tail"] + extra + ["z", "ret", "--catch-up", "10", "--count", "40",
                                   "--json", "--snapshot", f"tcp://127.0.0.1:{snap}"])
    check(tail.returncode == 0, f"{mode}: tail failed: {tail.stderr}")
    check("gap" not in tail.stderr, f"{mode}: {tail.stderr}")
    seqs = {}
    for line in tail.stdout.splitlines():
        o = json.loads(line)
        seqs.setdefault(o["node"], []).append(o["seq"])
    check(set(seqs) == {"z", "ret"}, f"{mode}: {seqs}")
    for node, s in seqs.items():
        check(s == list(range(s[0], s[0] + len(s))), f"{mode}: {node}: not contiguous or duplicated: {s}")
        check(s[0] > 20, f"{mode}: {node}: catch-up should start mid-stream, started at {s[0]}")
        check(len(s) >= 15, f"{mode}: {node}: snapshot (10) and live outputs expected, got {len(s)}")
    found[mode] = {k: (v[0], v[-1]) for k, v in seqs.items()}
plain = run(["tail", f"tcp://127.0.0.1:{pub}", "z", "--count", "4"])
times = re.findall(r"  seq \d+  (\S+)  ", plain.stdout)
check(len(times) == 4 and all(re.fullmatch(r"2026-01-01T\d\d:\d\d:\d\d(\.(250|500|750))?Z", t)
                                for t in times) and any("." in t for t in times),
      f"sub-second bucket times: {plain.stdout}")
engine.communicate(timeout=30)

# A bad request gets a clear answer, not silence.
bad = run(["tail", f"tcp://127.0.0.1:{pub}", "nope", "--catch-up", "3", "--snapshot",
           f"tcp://127.0.0.1:{free_port()}", "--for", "1s"])
check(bad.returncode != 0, "an unreachable snapshot endpoint is an error")
bad = run(["tail", f"tcp://127.0.0.1:{tracked}", "z", "--track", "x", "--catch-up", "3"])
check(bad.returncode == 2 and "--catch-up with --track needs --snapshot" in bad.stderr, bad.stderr)
print("ok:", found, times)
