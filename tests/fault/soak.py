"""Soak: blue with order books and the violet mirror as two processes, for MINUTES, with
subscribers that come and go (some stall), snapshot requests and admin traffic throughout.
Every 10 s it samples each engine's anonymous resident memory (RssAnon), open fds and lag (how
many buckets the last sizing output trails the last scan). At the end: RSS within 10 % of its
value after warm-up, fds not growing, both engines answering and exiting cleanly.

    /usr/bin/python3 tests/fault/soak.py MINUTES
"""
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import SHOAL, SOURCE_DIR, check, free_port, run, start, wait_for, workdir  # noqa: E402

minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 5
rng = random.Random(7)
wd = workdir()
pub, snap, tracked, mpub = (free_port() for _ in range(4))
os.makedirs(os.path.join(wd, "blue"))
os.makedirs(os.path.join(wd, "violet_mirror"))
blue = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()
blue = blue.replace("tcp://127.0.0.1:5560", f"tcp://127.0.0.1:{pub}").replace(
    "tcp://127.0.0.1:5561", f"tcp://127.0.0.1:{snap}")
blue = blue.replace('[engine]\n', f'[engine]\npublish_tracked = "tcp://127.0.0.1:{tracked}"\n', 1)
open(os.path.join(wd, "blue", "graph.toml"), "w").write(blue)
mirror = open(os.path.join(SOURCE_DIR, "scenarios/violet_mirror/mirror.toml")).read()
mirror = mirror.replace("tcp://127.0.0.1:5560", f"tcp://127.0.0.1:{pub}")
mirror = mirror.replace("tcp://127.0.0.1:5561", f"tcp://127.0.0.1:{snap}")
mirror = mirror.replace("tcp://127.0.0.1:5570", f"tcp://127.0.0.1:{mpub}")
mirror = mirror.replace('snapshot = "tcp://127.0.0.1:5571"\n', "")
open(os.path.join(wd, "violet_mirror", "mirror.toml"), "w").write(mirror)

engines = {
    "blue": start(["run", os.path.join(wd, "blue", "graph.toml"), "--data",
                   os.path.join(wd, "blue-data")], stderr=open(os.path.join(wd, "blue.log"), "w")),
}
wait_for(lambda: os.path.exists(os.path.join(wd, "blue-data", "shoal.sock")), what="blue")
engines["mirror"] = start(["run", os.path.join(wd, "violet_mirror", "mirror.toml"), "--data",
                           os.path.join(wd, "mirror-data")], stderr=open(os.path.join(wd, "mirror.log"), "w"))
socks = {"blue": os.path.join(wd, "blue-data", "shoal.sock"),
         "mirror": os.path.join(wd, "mirror-data", "shoal.sock")}
wait_for(lambda: os.path.exists(socks["mirror"]), what="the mirror")


def admin(name, *args):
    r = run(["admin", "--socket", socks[name], "--json", *args], timeout=30)
    return json.loads(r.stdout) if r.stdout.startswith("{") else {"ok": False}


stop = threading.Event()
ctx = zmq.Context()
counts = {"subscribers": 0, "snapshots": 0, "admin": 0}


def churn():
    """Subscribers that come and go; a third of them stop reading for a while."""
    while not stop.is_set():
        tracked_client = rng.random() < 0.5
        s = ctx.socket(zmq.DEALER if tracked_client else zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        if tracked_client:
            s.setsockopt(zmq.ROUTING_ID, f"soak-{counts['subscribers']}".encode())
            s.connect(f"tcp://127.0.0.1:{tracked}")
            s.send_multipart([b"subscribe", b""])
        else:
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(f"tcp://127.0.0.1:{rng.choice([pub, mpub])}")
        stall = rng.random() < 0.33
        until = time.monotonic() + rng.uniform(0.5, 5)
        while time.monotonic() < until and not stop.is_set():
            if stall:
                time.sleep(0.1)
            elif s.poll(50):
                s.recv_multipart()
        if tracked_client:
            s.send_multipart([b"bye", b""])
        s.close()
        counts["subscribers"] += 1


def traffic():
    req = None
    while not stop.is_set():
        if req is None:
            req = ctx.socket(zmq.REQ)
            req.setsockopt(zmq.LINGER, 0)
            req.setsockopt(zmq.RCVTIMEO, 5000)
            req.connect(f"tcp://127.0.0.1:{snap}")
        try:
            req.send(msgpack.packb({"topic": rng.choice(["sizing", "scanner", "mc"]), "n": 50}))
            req.recv()
            counts["snapshots"] += 1
        except zmq.Again:
            req.close()
            req = None
        for name in ("blue", "mirror"):
            for cmd in (["nodes"], ["metrics"], ["inspect", "sizing" if name == "blue" else "sizing_mirror"]):
                admin(name, *cmd)
                counts["admin"] += 1
        time.sleep(0.5)


def sample(name):
    pid = engines[name].pid
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("RssAnon:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    node, scan = ("sizing", "market.scan") if name == "blue" else ("sizing_mirror", "primary.market.scan")
    a, b = admin(name, "inspect", node), admin(name, "inspect", scan)
    lag = None
    if a.get("last_output") and b.get("last_output"):
        lag = (b["last_output"]["bucket"] - a["last_output"]["bucket"]) // 10**9
    return rss // 1024, fds, lag


threads = [threading.Thread(target=f, daemon=True) for f in (churn, churn, traffic)]
for t in threads:
    t.start()
samples = {"blue": [], "mirror": []}
t0 = time.monotonic()
end = t0 + minutes * 60
print(f"soak: {minutes} min; sample every 10 s: minute, engine, RssAnon MiB, fds, lag buckets",
      flush=True)
while time.monotonic() < end:
    time.sleep(min(10, max(0, end - time.monotonic())))
    for name in samples:
        if engines[name].poll() is not None:
            tail = open(os.path.join(wd, f"{name}.log")).read()[-2000:]
            check(False, f"{name} died (exit {engines[name].returncode}); its log ends:\n{tail}")
        s = sample(name)
        samples[name].append((time.monotonic() - t0, *s))
        print(f"{(time.monotonic() - t0) / 60:6.2f}  {name:6s}  {s[0]:6d}  {s[1]:4d}  {s[2]}", flush=True)
stop.set()
for t in threads:
    t.join()
for name, proc in engines.items():
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    check(proc.returncode == 0, f"{name} exit {proc.returncode}")

ok = True
for name, ss in samples.items():
    # RssAnon of a 10 MiB process moves by a MiB between samples (allocator caches), so the
    # first minute after warm-up and the last minute are compared by their medians.
    warm = [s for s in ss if s[0] >= min(300, minutes * 60 * 0.25)]  # after warm-up
    first = [s for s in warm if s[0] < warm[0][0] + 60]
    last = [s for s in warm if s[0] > warm[-1][0] - 60]
    base, end = statistics.median(s[1] for s in first), statistics.median(s[1] for s in last)
    growth = (end - base) / base
    fd_growth = max(s[2] for s in last) - min(s[2] for s in first)
    lags = [s[3] for s in warm if s[3] is not None]
    print(f"{name}: RssAnon median {base} MiB in the first minute after warm-up -> {end} MiB in "
          f"the last ({growth * 100:+.1f} %), max {max(s[1] for s in warm)} MiB; fds "
          f"{min(s[2] for s in first)}..{max(s[2] for s in first)} -> "
          f"{min(s[2] for s in last)}..{max(s[2] for s in last)}; lag max "
          f"{max(lags) if lags else None} buckets")
    ok &= abs(growth) <= 0.10 and fd_growth <= 2
print(f"traffic: {counts['subscribers']} subscribers came and went, {counts['snapshots']} "
      f"snapshots, {counts['admin']} admin requests")
check(ok, "RSS or fds grew")
print("ok: flat")
