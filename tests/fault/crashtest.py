"""Crash test in the spirit of RocksDB's db_crashtest: a live engine fed over ZeroMQ, with a
subscriber recording everything it publishes, killed with SIGKILL at random moments and
restarted, over and over. After each kill and at the end it checks:
- the store opens (export works) and the journal is in order;
- no acknowledged record is lost: every event sent at least commit_ms + 50 ms before a kill is
  in the journal (decisions: "acknowledged" for a ZeroMQ feed);
- stream seqs are contiguous (1, 2, 3, ... across every restart);
- with publish_after_commit, no (node, seq) a subscriber saw is ever published again with
  another value, across all restarts;
- at the end, replay of the data dir equals its stored outputs (parity).
It reports the downtime gap per kill: events the feed sent that no engine received.

With --emas N the graph has N more ema nodes over `ret`, so every scan queues N more outputs for
the store writer, and with --burst B the feed sends B scans at once every 50 ms: a backlog of
outputs that journal records must not wait behind.

    /usr/bin/python3 tests/fault/crashtest.py N [--seed S] [--emas N] [--burst B]
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import (SCAN_STREAM, SHOAL, bound_feed, check, feed_config, run, wait_for,  # noqa: E402
                     workdir)

ap = argparse.ArgumentParser()
ap.add_argument("kills", type=int, nargs="?", default=10)
ap.add_argument("--seed", type=int, default=int(time.time()))
ap.add_argument("--emas", type=int, default=0, help="more ema nodes over ret")
ap.add_argument("--burst", type=int, default=0, help="scans sent at once every 50 ms (0: one every 4 ms)")
args = ap.parse_args()
rng = random.Random(args.seed)
print(f"crashtest: {args.kills} kills, seed {args.seed}", flush=True)

START, SECOND = 1767225600 * 10**9, 10**9
COMMIT_MS = 20
ASSETS = [f"A{i:02d}" for i in range(8)]
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
cfg, port = feed_config(wd, "crash", feed_ep, {"scan": SCAN_STREAM},
                        engine=f"commit_ms = {COMMIT_MS}\npublish_after_commit = true",
                        source='interval = "1s"', nodes="""
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }

[[node]]
name = "ema"
kind = "ema"
inputs = { in = "ret" }
params = { span = 8 }

[[node]]
name = "z"
kind = "zscore"
inputs = { in = "ret" }
params = { window = 10 }
""" + "".join(f'\n[[node]]\nname = "e{i}"\nkind = "ema"\ninputs = {{ in = "ret" }}\nparams = {{ span = {i + 2} }}\n'
              for i in range(args.emas)))
data = os.path.join(wd, "data")

# The subscriber: every (node, seq) it ever sees, with the value bytes.
seen, conflicts = {}, []
sub = ctx.socket(zmq.SUB)
# Every node; with many more nodes, only the first three (a Python subscriber of them all would
# take the engine's CPU).
for topic in ([b""] if not args.emas else [b"ret", b"ema", b"z"]):
    sub.setsockopt(zmq.SUBSCRIBE, topic)
sub.connect(f"tcp://127.0.0.1:{port}")
stop_sub = threading.Event()


def subscriber():
    while not stop_sub.is_set():
        if sub.poll(20):
            topic, body = sub.recv_multipart()
            o = msgpack.unpackb(body)
            key = (o["node"], o["seq"])
            value = msgpack.packb([o["bucket"], o["value"]])
            if key in seen and seen[key] != value:
                conflicts.append(key)
            seen[key] = value


threading.Thread(target=subscriber, daemon=True).start()

k = 0  # next bucket the feed sends
sent = []  # (bucket, send time) of every event
acked = []  # events sent at least commit_ms + 50 ms before the kill that ended their engine


def journal():
    r = run(["export", data, "--journal"])
    check(r.returncode == 0, f"the store does not open: {r.stderr}")
    return [json.loads(l) for l in r.stdout.splitlines()]


gaps = []
for trial in range(args.kills + 1):
    last = trial == args.kills
    proc = subprocess.Popen([SHOAL, "run", cfg, "--data", data, "--checkpoint-every", "50"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subscribed()
    # Feed at a few hundred events a second, for a random while.
    segment = len(sent)
    until = time.monotonic() + (1.0 if last else rng.uniform(0.2, 1.2))
    while time.monotonic() < until:
        for _ in range(max(1, args.burst)):
            prices = [100.0 + 10 * i + 5 * ((k * (i + 3)) % 7) / 7.0 for i in range(len(ASSETS))]
            feed.send_multipart([b"scan", msgpack.packb(
                {"ts": START + k * SECOND, "scan_number": k, "assets": ASSETS, "prices": prices})])
            sent.append((k, time.monotonic()))
            k += 1
        time.sleep(0.05 if args.burst else 0.004)
    if last:
        time.sleep(0.5)
        # A signal during a start (a long catch-up) ends the process at once: stop it once it runs.
        def answers():
            try:
                return run(["admin", "--socket", os.path.join(data, "shoal.sock"), "nodes"],
                           timeout=10).returncode == 0
            except subprocess.TimeoutExpired:
                return False
        wait_for(answers, timeout=120, what="the last engine started")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        check(proc.returncode == 0, "the final clean stop")
        killed_at = time.monotonic()
    else:
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait()
        subscribed.drain()
    records = [r for r in journal() if "payload" in r]
    got = [r["payload"]["scan_number"] for r in records]
    check(got == sorted(got), f"trial {trial}: the journal is out of order")
    check([r["seq"] for r in records] == list(range(1, len(records) + 1)),
          f"trial {trial}: seqs are not contiguous")
    journaled = set(got)
    acked += [b for b, at in sent[segment:] if at <= killed_at - (COMMIT_MS + 50) / 1000]
    lost = [b for b in acked if b not in journaled]
    check(not lost, f"trial {trial}: {len(lost)} acknowledged events lost, first {lost[:5]} "
                    f"(this engine was sent {sent[segment][0]}..{sent[-1][0]})")
    gaps.append(sum(1 for b, _ in sent[segment:] if b not in journaled))
    check(not conflicts, f"trial {trial}: (node, seq) published again with another value: "
                         f"{conflicts[:5]}")
stop_sub.set()

digest = os.path.join(wd, "replay.json")
r = run(["replay", data, "--digest", digest], timeout=600)
check(r.returncode == 0, r.stderr)
r = run(["parity", data, digest])
check(r.returncode == 0, f"replay differs from the stored outputs:\n{r.stdout}")
print(f"ok: {args.kills} kills; 0 corrupt stores, 0 lost acknowledged events, 0 reissued seqs "
      f"({len(seen)} (node, seq) pairs seen); {len(sent)} events sent, {len(journaled)} "
      f"journaled; downtime gap per kill (events sent while no engine listened or not yet "
      f"committed): {gaps[:-1]}; replay parity holds")
