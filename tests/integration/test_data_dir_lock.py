"""Durability issue, acceptance 2: one engine per data dir. A second `shoal run` on a dir in use
exits 2 at once with one line naming the holder's pid; the first keeps running and loses
nothing (its journal is exactly the fabricator's stream)."""
import json
import os
import signal
import subprocess

from harness import check, free_port, run, start, wait_for, workdir

wd = workdir()
cfg = os.path.join(wd, "lock.toml")
open(cfg, "w").write(f"""
[engine]
name = "lock"
publish = "tcp://127.0.0.1:{free_port()}"

[[source]]
name = "market"
kind = "fabricator"
seed = 5
assets = 4
books = false
pace = "20ms"
""")
data = os.path.join(wd, "data")


def scans():
    return [json.loads(l) for l in run(["export", data, "--journal"]).stdout.splitlines()]


first = start(["run", cfg, "--data", data], stderr=subprocess.PIPE, text=True)
wait_for(lambda: os.path.exists(os.path.join(data, "data.mdb")) and len(scans()) > 20,
         what="the first engine's journal")
second = run(["run", cfg, "--data", data, "--for", "5s"], timeout=20)
check(second.returncode == 2, f"second engine: exit {second.returncode}: {second.stderr}")
lines = second.stderr.strip().splitlines()
check(len(lines) == 1 and f"in use by another shoal engine (pid {first.pid})" in lines[0], lines)
at = len(scans())
wait_for(lambda: len(scans()) > at + 20, what="the first engine to keep going")
check(first.poll() is None, "the first engine is still running")
first.send_signal(signal.SIGINT)
_, err = first.communicate(timeout=30)
check(first.returncode == 0, err)
got = scans()
want_dir = os.path.join(wd, "want")
check(run(["fabricate", "--seed", "5", "--assets", "4", "--no-books", "--buckets", str(len(got)),
           "--out", want_dir]).returncode == 0, "fabricate")
want = [json.loads(l) for l in run(["export", want_dir, "--journal"]).stdout.splitlines()]
check(got == want, "the first engine's journal lost or changed records")
print(f"ok: the second engine was refused; the first journaled {len(got)} scans, none lost")
