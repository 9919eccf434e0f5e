"""Build mode (issue 13), acceptance 3: a journal without one segment's scans. A real ZeroMQ feed
sends scans for buckets 0-29 and 40-59 of 1 s (segments of 10 buckets: 0-2 and 4-5 have data,
3 has none). `shoal build --dry-run` and `shoal build` both say: the stream's segment 3 is
impossible, so is segment 3 of every node below it (`upstream feed.scan`); the later segments of
those nodes are blocked (continuity: state carries over; below a blocked node, `upstream NAME`);
segments 0-2 are built; exit 3."""
import json
import os
import signal
import subprocess

import msgpack
import zmq

from harness import SCAN_STREAM, bound_feed, check, feed_config, run, start, wait_for, workdir

START, SECOND = 1767225600 * 10**9, 10**9  # 2026-01-01T00:00:00Z: a multiple of 10 s
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
cfg, _ = feed_config(wd, "gaps", feed_ep, {"scan": SCAN_STREAM}, nodes="""
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }

[[node]]
name = "smooth"
kind = "ema"
inputs = { in = "ret" }
params = { span = 5 }
""")
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")
eng = start(["run", cfg, "--data", data], stderr=subprocess.PIPE, text=True)
subscribed()
assets = ["A", "B", "C"]
buckets = list(range(0, 30)) + list(range(40, 60))
for k in buckets:
    prices = [100.0 + i + 0.1 * k + 0.01 * (k % 7) for i in range(len(assets))]
    feed.send_multipart([b"scan", msgpack.packb(
        {"ts": START + k * SECOND, "scan_number": k, "assets": assets, "prices": prices})])


def stored():
    r = run(["export", data, "--journal"])
    return sum(1 for line in r.stdout.splitlines() if '"payload"' in line)


wait_for(lambda: stored() == len(buckets), timeout=30, what="every scan journaled")
wait_for(lambda: json.loads(run(["admin", "--socket", sock, "--json", "inspect", "smooth"]).stdout)
         .get("counters", {}).get("outputs", 0) >= 40, what="smooth's outputs")
eng.send_signal(signal.SIGTERM)
eng.communicate(timeout=30)
check(eng.returncode == 0, f"engine exit {eng.returncode}")

# The same graph with smooth changed, so smooth has to run.
changed = os.path.join(wd, "changed.toml")
open(changed, "w").write(open(cfg).read().replace("span = 5", "span = 6"))
expected = {
    "feed.scan": ["done"] * 3 + ["impossible"] + ["done"] * 2,
    "ret": ["done"] * 3 + ["impossible"] + ["blocked"] * 2,
    "smooth": ["run"] * 3 + ["impossible"] + ["blocked"] * 2,
}
for extra in (["--dry-run"], []):
    r = run(["build", changed, "--data", data, "--segment", "10s", "--json", *extra])
    check(r.returncode == 3, f"build {extra} exits 3 (incomplete): {r.returncode} {r.stderr}")
    rep = json.loads(r.stdout)
    check(rep["segments"] == 6 and not rep["complete"], rep)
    got = {n["name"]: n["segments"] for n in rep["nodes"] if n["name"] in expected}
    check(got == expected, f"{extra}: {got}")
    why = {n["name"]: n["why"] for n in rep["nodes"]}
    check(any(w.startswith("no feed.scan events journaled in segment 3") for w in why["feed.scan"]),
          why["feed.scan"])
    check(why["smooth"].get("upstream feed.scan") == 1, why["smooth"])
    check(why["ret"].get("the segment before is not built (continuity)") == 2, why["ret"])
    check(why["smooth"].get("upstream ret") == 2, why["smooth"])

# The text report says the same, for people.
r = run(["build", changed, "--data", data, "--segment", "10s", "--dry-run"])
check(r.returncode == 3 and "impossible" in r.stdout and "upstream feed.scan" in r.stdout, r.stdout)
print("ok")
