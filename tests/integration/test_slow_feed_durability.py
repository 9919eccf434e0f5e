"""Durability issue, acceptance 1: a fabricator at a 200 ms pace, killed with SIGKILL at 20
random moments. Each time, the journal holds every record a subscriber saw published more than
commit_ms + one pace before the kill (before the fix the writer waited for 1000 records and a
kill lost everything since the last checkpoint), and each restart continues the journal with
contiguous seqs: in the end it is exactly the fabricator's stream, from its start."""
import json
import os
import random
import signal
import subprocess
import threading
import time

import msgpack
import zmq

from harness import SHOAL, check, engine_config, fabricator_source, nodes_toml, run, workdir

PACE_S, COMMIT_MS = 0.2, 20
rng = random.Random(20261201)
wd = workdir()
cfg, port = engine_config(wd, "slow", fabricator_source(3, 4, f"{int(PACE_S * 1000)}ms", "books = false"),
                         nodes_toml(("ret", "log_return", "market.scan")), engine=f"commit_ms = {COMMIT_MS}")
data = os.path.join(wd, "data")
ctx = zmq.Context()


def journal_scans():
    r = run(["export", data, "--journal"])
    check(r.returncode == 0, f"store does not open: {r.stderr}")
    return [json.loads(l) for l in r.stdout.splitlines()]


def record(sub, seen, stop):
    while not stop.is_set():
        if sub.poll(20):
            topic, body = sub.recv_multipart()
            seen.append((time.monotonic(), msgpack.unpackb(body)["bucket"]))


worst_margin = None
for trial in range(20):
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"market.scan")
    sub.connect(f"tcp://127.0.0.1:{port}")
    seen, stop = [], threading.Event()
    t = threading.Thread(target=record, args=(sub, seen, stop))
    t.start()
    proc = subprocess.Popen([SHOAL, "run", cfg, "--data", data, "--checkpoint-every", "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    check(seen, f"trial {trial}: nothing published within 10 s")
    time.sleep(rng.uniform(0.3, 1.5))
    proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait()
    stop.set()
    t.join()
    sub.close(linger=0)

    records = journal_scans()
    journaled = {r["ts"] for r in records}
    acknowledged = [b for (at, b) in seen if at < killed_at - (COMMIT_MS / 1000 + PACE_S)]
    lost = [b for b in acknowledged if b not in journaled]
    check(not lost, f"trial {trial}: {len(lost)} published scans older than commit_ms + pace "
                    f"are not in the journal (journal has {len(records)} records)")
    seqs = [r["seq"] for r in records]
    check(seqs == list(range(1, len(seqs) + 1)), f"trial {trial}: seqs not contiguous: {seqs[-5:]}")

# The whole journal is the fabricator's stream from its start: nothing lost, nothing twice.
expected = os.path.join(wd, "expected")
records = journal_scans()
check(run(["fabricate", "--seed", "3", "--assets", "4", "--no-books", "--buckets", str(len(records)),
           "--out", expected]).returncode == 0, "fabricate")
want = [json.loads(l) for l in run(["export", expected, "--journal"]).stdout.splitlines()]
check(records == want, "the journal across 20 kills is not the fabricator's stream")
print(f"ok: 20 kills, {len(records)} scans journaled, none lost")
