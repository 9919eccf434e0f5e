"""Durability issue, acceptance 5: a FAILED node is visible and recoverable.

A join with on_missing = "fail" fails when its volume input has no value in a bucket. Then:
its state is FAILED with the reason, the node below it BLOCKED naming it, the state gauge says
so, and `shoal run` exits 1. After a restart of the engine it is still FAILED with its reason
and counters (not WARMING with nothing); `shoal admin restart` brings it back, the node below
follows, and the whole run — failure, restart command and all — replays byte for byte."""
import json
import os
import signal
import subprocess

import msgpack
import zmq
from prometheus_client.parser import text_string_to_metric_families

from harness import bound_feed, check, check_parity, feed_config, run, start, wait_for, workdir

START, SECOND = 1767225600 * 10**9, 10**9
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["a", "b"])
cfg, _ = feed_config(wd, "fail", feed_ep, {"a": 'time = "payload"', "b": 'time = "payload"'},
                     source='interval = "1s"\nidle_timeout = "60s"', nodes="""
[[node]]
name = "x"
kind = "vwap"
inputs = { price = "feed.a", volume = "feed.b" }
params = { window = 1 }
on_missing = "fail"

[[node]]
name = "y"
kind = "ema"
inputs = { in = "x" }
""")
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")


def send(stream, k):
    feed.send_multipart([stream.encode(), msgpack.packb(
        {"ts": START + k * SECOND + 1, "assets": ["A", "B"], "values": [10.0 + k, 5.0 + k]})])


def admin(*args):
    r = run(["admin", "--socket", sock, "--json", *args])
    return json.loads(r.stdout) if r.stdout.startswith("{") else {"ok": False, "error": r.stderr}


def nodes():
    return {n["name"]: n for n in admin("nodes").get("nodes", [])}


def inspect(name):
    return admin("inspect", name)


eng = start(["run", cfg, "--data", data], stderr=subprocess.PIPE, text=True)
subscribed()
for k in range(5):
    send("a", k), send("b", k)
send("a", 5)  # bucket 5 has a price but no volume...
send("a", 6), send("b", 6)  # ...which b's bucket 6 makes final
for k in range(7, 10):
    send("a", k), send("b", k)
wait_for(lambda: os.path.exists(sock) and nodes().get("x", {}).get("state") == "FAILED",
         what="x FAILED")
x, y = inspect("x"), inspect("y")
check("on_missing=fail" in x["reason"] and "'volume'" in x["reason"], x["reason"])
check(y["state"] == "BLOCKED" and "upstream x is FAILED" in y["reason"], y)
metrics = admin("metrics")["text"]
check('shoal_node_state{node="x",state="FAILED"} 1' in metrics, "state gauge of x")
check('shoal_node_state{node="y",state="BLOCKED"} 1' in metrics, "state gauge of y")
check('shoal_node_state{node="x",state="RUNNING"} 0' in metrics, "one state at a time")
# As Prometheus reads it (clients issue, acceptance 5): the whole text parses, and the gauge
# says x is FAILED and y BLOCKED, nothing else.
states = {(s.labels["node"], s.labels["state"]): s.value
          for f in text_string_to_metric_families(metrics) if f.name == "shoal_node_state" for s in f.samples}
check(states[("x", "FAILED")] == 1 and states[("y", "BLOCKED")] == 1
      and sum(v for (n, _), v in states.items() if n == "x") == 1, f"parsed state gauge: {states}")
wait_for(lambda: inspect("x")["notes"].get("skipped_while_failed", 0) >= 3, what="buckets passed")
events_before = inspect("x")["counters"]["events_in"]
eng.send_signal(signal.SIGINT)
_, err = eng.communicate(timeout=30)
check(eng.returncode == 1, f"shoal run must exit 1 with a FAILED node, got {eng.returncode}")

# Restart: still FAILED, with its reason and its counters.
eng = start(["run", cfg, "--data", data], stderr=subprocess.PIPE, text=True)
subscribed()
wait_for(lambda: os.path.exists(sock) and "x" in nodes(), what="the restarted engine")
x = inspect("x")
check(x["state"] == "FAILED" and "on_missing=fail" in x["reason"], f"after restart: {x}")
check(x["counters"]["events_in"] == events_before, f"counters after restart: {x['counters']}")
check(inspect("y")["state"] == "BLOCKED", "y after restart")
# An operator brings it back; it and y continue with the next buckets.
r = admin("restart", "x")
check(r.get("ok"), r)
check(inspect("x")["state"] == "RUNNING" and inspect("y")["state"] != "BLOCKED", "after restart x")
y_out = inspect("y")["counters"]["outputs"]
for k in range(10, 14):
    send("a", k), send("b", k)
wait_for(lambda: inspect("y")["counters"]["outputs"] >= y_out + 3, what="y emitting again")
eng.send_signal(signal.SIGINT)
_, err = eng.communicate(timeout=30)
check(eng.returncode == 0, f"exit {eng.returncode} with every node running: {err[-500:]}")
journal = run(["export", data, "--journal"]).stdout
check('"control":"restart"' in journal, "the restart is journaled")
digest = os.path.join(wd, "replay.json")
r = run(["replay", data, "--digest", digest])
check(r.returncode == 0, r.stderr)
check_parity(data, digest, "live against replay", min_outputs=None)
print("ok: FAILED and BLOCKED visible, exit 1, kept across a restart, restarted by admin, replayed")
