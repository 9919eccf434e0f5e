"""Build mode (issue 13), acceptance 4: the quality circuit breaker. A real ZeroMQ feed sends 45
scans whose prices never move, so a log_return node's outputs are all 0.0. Recorded with ret
declared `on_missing = "ffill"`; the build drops that, so ret (a new NodeID) must run: its first
segment is FAILED at stage quality (a flatline, named), nothing of it is stored, its later
segments and everything below it are BLOCKED, exit 3. `quality = { allow_flatline = true }` on
ret lets the same build complete."""
import json
import os
import signal
import subprocess

import msgpack
import zmq

from harness import SCAN_STREAM, bound_feed, check, feed_config, run, start, wait_for, workdir

START, SECOND = 1767225600 * 10**9, 10**9
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
nodes = """
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }
on_missing = "ffill"

[[node]]
name = "smooth"
kind = "ema"
inputs = { in = "ret" }
params = { span = 5 }
"""
cfg, _ = feed_config(wd, "flat", feed_ep, {"scan": SCAN_STREAM}, nodes=nodes)
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")
eng = start(["run", cfg, "--data", data], stderr=subprocess.PIPE, text=True)
subscribed()
for k in range(45):
    feed.send_multipart([b"scan", msgpack.packb(
        {"ts": START + k * SECOND, "scan_number": k, "assets": ["A", "B"], "prices": [100.0, 50.0]})])
wait_for(lambda: json.loads(run(["admin", "--socket", sock, "--json", "inspect", "smooth"]).stdout)
         .get("counters", {}).get("outputs", 0) >= 40, what="smooth's outputs")
eng.send_signal(signal.SIGTERM)
eng.communicate(timeout=30)
check(eng.returncode == 0, f"engine exit {eng.returncode}")

text = open(cfg).read()
strict = os.path.join(wd, "strict.toml")
open(strict, "w").write(text.replace('on_missing = "ffill"\n', ""))
r = run(["build", strict, "--data", data, "--segment", "20", "--json"])
check(r.returncode == 3, f"a flatline fails the build (exit 3): {r.returncode} {r.stderr}")
rep = json.loads(r.stdout)
nodes_by = {n["name"]: n for n in rep["nodes"]}
ret = nodes_by["ret"]
check(ret["segments"] == ["failed"] + ["blocked"] * (rep["segments"] - 1), ret)
why = next(w for w in ret["why"] if w.startswith("quality: "))
check("is 0 in all" in why and "flatline" in why, why)
check(set(nodes_by["smooth"]["segments"]) == {"blocked"}, nodes_by["smooth"])
check("upstream ret failed" in nodes_by["smooth"]["why"], nodes_by["smooth"]["why"])
outs = [json.loads(line) for line in run(["export", data, "--outputs"]).stdout.splitlines()]
check(not [o for o in outs if o["id"] == ret["id"]], "nothing of the failed node is stored")

# The override: the same build completes.
allowed = os.path.join(wd, "allowed.toml")
open(allowed, "w").write(open(strict).read().replace(
    'inputs = { in = "feed.scan" }\n', 'inputs = { in = "feed.scan" }\nquality = { allow_flatline = true }\n', 1))
r = run(["build", allowed, "--data", data, "--segment", "20", "--json"])
check(r.returncode == 0, f"allow_flatline lets it pass: {r.returncode} {r.stdout} {r.stderr}")
rep = json.loads(r.stdout)
check(rep["complete"], rep)
outs = [json.loads(line) for line in run(["export", data, "--outputs"]).stdout.splitlines()]
check(len([o for o in outs if o["id"] == ret["id"]]) >= 40, "ret's outputs are stored")

# A bad override is a config error naming the key.
bad = os.path.join(wd, "bad.toml")
open(bad, "w").write(open(allowed).read().replace(
    "allow_flatline = true", "max_null_pct = 120"))
r = run(["build", bad, "--data", data, "--dry-run"])
check(r.returncode == 2 and "node.ret.quality.max_null_pct" in r.stderr
      and "must be a number in [0, 100]" in r.stderr, r.stderr)
print("ok")
