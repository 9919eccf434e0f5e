"""Durability issue, acceptance 4: a strategy submitted over blue's scanner is RUNNING within one
bucket of the submit, and its outputs equal those of a run that had it from the start.

blue runs live; once its scanner and Monte-Carlo forewarner run, a strategy with a second
forewarner (100 buckets of scanner history) and a second ACB is submitted inline. Its nodes are
warmed from the scanner's stored outputs, so their first outputs are for the bucket right after
the submit; a replay of the same journal with the strategy in the config from the start gives
the same values for every one of those buckets."""
import json
import os
import signal
import subprocess

from harness import SOURCE_DIR, check, free_port, run, start, wait_for, workdir, free_http, with_ports

SECOND = 10**9
wd = workdir()
blue = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()
blue = free_http(blue)
blue = with_ports(blue, {5560: free_port(), 5561: free_port()})
blue = blue.replace('pace = "20ms"', 'pace = "8ms"')
cfg = os.path.join(wd, "blue.toml")
open(cfg, "w").write(blue)
strategy = """[strategy]
name = "late"

[[node]]
name = "mc2"
kind = "mc_forewarner"
inputs = { in = "scanner" }
params = { paths = 500, horizon = 20, window = 100, dd = 0.03 }

[[node]]
name = "acb2"
kind = "acb"
inputs = { in = "scanner" }
params = { vol_window = 10, vol_threshold = 0.002 }
"""
open(os.path.join(wd, "late.toml"), "w").write(strategy)
full = os.path.join(wd, "full.toml")
open(full, "w").write(blue.replace('[engine]\n', '[engine]\nstrategies = ["late.toml"]\n', 1))
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")


def admin(*args):
    r = run(["admin", "--socket", sock, "--json", *args])
    return json.loads(r.stdout) if r.stdout.startswith("{") else {"ok": False, "error": r.stderr}


eng = start(["run", cfg, "--data", data, "--checkpoint-every", "100"], stderr=subprocess.PIPE,
            text=True)
wait_for(lambda: os.path.exists(sock) and admin("inspect", "mc").get("state") == "RUNNING",
         timeout=60, what="blue's mc running")
r = admin("submit", os.path.join(wd, "late.toml"))
check(r.get("ok") and len(r["new"]) == 2, r)
wait_for(lambda: admin("inspect", "late.mc2").get("counters", {}).get("outputs", 0) >= 1,
         what="the first output of late.mc2")
check(admin("inspect", "late.mc2")["state"] == "RUNNING", "late.mc2 RUNNING")
outs_at = admin("inspect", "scanner")["counters"]["outputs"]
wait_for(lambda: admin("inspect", "scanner")["counters"]["outputs"] > outs_at + 100,
         what="100 more buckets")
eng.send_signal(signal.SIGINT)
_, err = eng.communicate(timeout=60)
check(eng.returncode == 0, err[-2000:])

# Where the submit happened: the last scan journaled before the control record.
last_scan = None
for line in run(["export", data, "--journal"]).stdout.splitlines():
    rec = json.loads(line)
    if rec.get("control") == "submit":
        break
    if rec.get("stream") == "market.scan" and "payload" in rec:
        last_scan = rec["ts"] - rec["ts"] % SECOND
live = {}
for line in run(["export", data, "--outputs"]).stdout.splitlines():
    o = json.loads(line)
    live.setdefault(o["node"], {})[o["bucket"]] = o["value"]
for node in ("late.mc2", "late.acb2"):
    first = min(live[node])
    check(first == last_scan + SECOND,
          f"{node}: first output at bucket {first}, the submit came after bucket {last_scan}")

ref_dir = os.path.join(wd, "full")
r = run(["replay", data, "--config", full, "--out", ref_dir], timeout=300)
check(r.returncode == 0, r.stderr[-2000:])
ref = {}
for line in run(["export", ref_dir, "--outputs"]).stdout.splitlines():
    o = json.loads(line)
    ref.setdefault(o["node"], {})[o["bucket"]] = o["value"]
for node in ("late.mc2", "late.acb2"):
    bad = [b for b, v in live[node].items() if ref[node].get(b) != v]
    check(not bad, f"{node}: {len(bad)} of {len(live[node])} outputs differ from a run that had "
                   f"it from the start, first at bucket {min(bad) if bad else None}")
print(f"ok: late.mc2 and late.acb2 RUNNING from the bucket after the submit; "
      f"{len(live['late.mc2'])} and {len(live['late.acb2'])} outputs equal a run from the start")
