"""Clients issue, acceptance 4: a scan stream recorded elsewhere, as JSONL with a few bad lines,
is imported with `shoal import` and replayed; its outputs equal a live engine's fed the same
lines over ZeroMQ (parity), and the bad lines are counted and named (line number and reason).
The same recording as CSV (`assets[]`/`prices[]` columns, one run of rows per scan) imports to
the same journal."""
import json
import os
import signal
import subprocess

import msgpack
import zmq

from harness import (SCAN_STREAM, bound_feed, check, check_parity, feed_config, replayed, run,
                     start, wait_for, workdir)

wd = workdir()
fab = os.path.join(wd, "fab")
r = run(["fabricate", "--seed", "21", "--assets", "5", "--buckets", "400", "--no-books", "--out", fab])
check(r.returncode == 0, r.stderr)
# The recording: each scan's payload with its event time in `ts`, as a feed would send it.
good = []
for line in run(["export", fab, "--journal"]).stdout.splitlines():
    rec = json.loads(line)
    good.append(json.dumps(dict(rec["payload"], ts=rec["ts"])))
bad = {  # 1-based line number in the file → (the line, the reason's kind)
    3: ('{"ts": 1767225602500000000, "scan_number": 2, "assets": ["A000"', "malformed_json"),
    50: (json.dumps({"ts": 1767225649500000000, "scan_number": 1, "assets": ["A000", "A001"],
                     "prices": [1.0, -2.0]}), "negative"),
    120: (json.dumps({"ts": "yesterday", "scan_number": 1, "assets": ["A000"], "prices": [1.0]}), "wrong_type"),
    200: (json.dumps({"ts": 1767225799500000000, "scan_number": 1, "prices": [1.0]}), "missing_field"),
}
lines = list(good)
for at in sorted(bad):
    lines.insert(at - 1, bad[at][0])
recording = os.path.join(wd, "recording.jsonl")
open(recording, "w").write("\n".join(lines) + "\n")

NODES = """
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }

[[node]]
name = "z"
kind = "zscore"
inputs = { in = "ret" }
params = { window = 20 }
"""

# Import: every good line journaled, every bad one named with its line and reason.
imported = os.path.join(wd, "imported")
report = os.path.join(wd, "import.json")
r = run(["import", recording, "--stream", "feed.scan", "--out", imported, "--report", report])
check(r.returncode == 0, r.stderr)
check(f"imported {len(good)} events" in r.stderr and "rejected 4 (" in r.stderr, r.stderr)
for at, (_, kind) in bad.items():
    check(f"line {at}: {kind}: " in r.stderr, f"line {at} ({kind}) not named:\n{r.stderr}")
rep = json.load(open(report))
check(rep["events"] == len(good) and rep["rejected"] == 4 and len(rep["rejected_lines"]) == 4, str(rep))
journal = [json.loads(l) for l in run(["export", imported, "--journal"]).stdout.splitlines()]
check(sum("payload" in j for j in journal) == len(good) and sum("rejected" in j for j in journal) == 4,
      "the journal holds the good lines as events and the bad ones as rejected records")

# Live: the same lines over ZeroMQ (a line that is not JSON goes as its raw bytes).
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
# The live engine's config also replays the import (a stream's NodeID includes its source's
# endpoints).
cfg, _ = feed_config(wd, "live", feed_ep, {"scan": SCAN_STREAM}, nodes=NODES)
live = os.path.join(wd, "live")
engine = start(["run", cfg, "--data", live], stderr=subprocess.DEVNULL)
subscribed()
for line in lines:
    try:
        body = msgpack.packb(json.loads(line))
    except ValueError:
        body = line.encode()
    feed.send_multipart([b"scan", body])


def journaled():
    return sum('"payload"' in l for l in run(["export", live, "--journal"]).stdout.splitlines())


wait_for(lambda: journaled() == len(good), timeout=60, what="every good line journaled live")
engine.send_signal(signal.SIGINT)
engine.wait(timeout=30)
check(engine.returncode == 0, "the live engine failed")

# Parity: replaying the import gives the live engine's outputs, byte for byte.
rows = check_parity(replayed(imported, cfg, os.path.join(wd, "replayed")), live,
                    "import + replay vs live over ZeroMQ", min_outputs=300)
check({"ret", "z", "feed.scan"} <= set(rows), str(rows))

# CSV: the same scans, one row per asset; the runs of one ts form one payload.
csv_path = os.path.join(wd, "recording.csv")
with open(csv_path, "w") as f:
    f.write("ts,scan_number,assets[],prices[]\n")
    for line in good:
        p = json.loads(line)
        for a, x in zip(p["assets"], p["prices"]):
            f.write(f"{p['ts']},{p['scan_number']},{a},{x!r}\n")
from_csv = os.path.join(wd, "from_csv")
r = run(["import", csv_path, "--stream", "feed.scan", "--out", from_csv])
check(r.returncode == 0 and f"imported {len(good)} events" in r.stderr, r.stderr)
check_parity(replayed(from_csv, cfg, os.path.join(wd, "replayed_csv")), live, "CSV import vs live",
             min_outputs=300)

# Errors a user can act on.
r = run(["import", recording, "--stream", "scan", "--out", os.path.join(wd, "x")])
check(r.returncode == 2 and "expected SOURCE.STREAM" in r.stderr, r.stderr)
r = run(["import", recording, "--stream", "feed.scan", "--schema", "nope", "--out", os.path.join(wd, "x")])
check(r.returncode == 2 and "--schema nope: unknown" in r.stderr, r.stderr)
print("ok:", len(good), "scans imported, 4 bad lines named; parity with live, from JSONL and CSV")
