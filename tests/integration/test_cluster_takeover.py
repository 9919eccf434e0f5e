"""Cluster mode: an engine's host is lost and another host takes the engine over from the
cluster. Engine t1 runs on a 3-server JetStream cluster and is killed with kill -9; its data dir
is gone with its host. The same config started on an empty dir takes t1's journal from the
stream, catches up through it and goes on:
  - its journal continues the lost one exactly (the fabricator regenerates by index, so even
    what was committed but not yet replicated comes back the same);
  - every output the lost engine stored has the same seq and bytes on the new one, and each
    node's seqs run 1, 2, 3, ... without a gap: no subscriber sees a seq twice with two values;
  - the new dir replays to the same outputs (parity).
A dir holding another engine's journal under the same engine_id is refused with a message that
says so."""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess

import lmdb

from harness import SHOAL, SOURCE_DIR, check, check_parity, free_port, replayed, run, start, wait_for, workdir

CLUSTER = os.path.join(SOURCE_DIR, "scripts", "cluster")


def ports_free(base):
    for p in [base + i for i in range(3)] + [base + 100 + i for i in range(3)] + [base + 200 + i for i in range(3)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


wd = workdir()
nats_dir = os.path.join(wd, "nats")
base = next(b for b in range(36000 + (os.getpid() % 50) * 300, 60000, 300) if ports_free(b))
up = subprocess.run([CLUSTER, "up", "--servers", "3", "--dir", nats_dir, "--port", str(base)],
                    capture_output=True, text=True, timeout=60)
atexit.register(lambda: subprocess.run([CLUSTER, "down", "--dir", nats_dir], capture_output=True))
check(up.returncode == 0, f"scripts/cluster up: {up.stderr}")
servers_line = up.stdout.strip()

cfg = os.path.join(wd, "t1.toml")
open(cfg, "w").write(f"""
[engine]
name = "t1"
publish = "tcp://127.0.0.1:{free_port()}"

[cluster]
{servers_line}
engine_id = "t1"

[[source]]
name = "market"
kind = "fabricator"
seed = 9
assets = 10
interval = "1s"
pace = "2ms"

[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}

[[node]]
name = "z"
kind = "zscore"
inputs = {{ in = "ret" }}
""")
lost = os.path.join(wd, "lost")
sock = os.path.join(lost, "shoal.sock")


def replicated():
    r = run(["admin", "--socket", sock, "cluster", "--json"], timeout=10)
    return json.loads(r.stdout).get("replicated", 0) if r.returncode == 0 else 0


engine = start(["run", cfg, "--data", lost, "--checkpoint-every", "300"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: replicated() >= 3000, timeout=60, what="3000 journal records in the cluster")
engine.send_signal(signal.SIGKILL)
engine.wait()
lost_journal = run(["export", lost, "--journal"]).stdout.splitlines()
lost_outputs = run(["export", lost, "--outputs"]).stdout.splitlines()
check(len(lost_outputs) > 100, f"the lost engine stored {len(lost_outputs)} outputs")

# The new host: same config, empty dir.
new = os.path.join(wd, "new")
r = run(["run", cfg, "--data", new, "--for", "2s"], timeout=120)
check(r.returncode == 0, f"taking over from the cluster: {r.stderr}")
check("data dir " + new + " ended at journal record 0; took records 1.." in r.stderr, r.stderr)
new_journal = run(["export", new, "--journal"]).stdout.splitlines()
check(len(new_journal) > len(lost_journal), f"{len(new_journal)} records after the takeover, {len(lost_journal)} before")
check(new_journal[: len(lost_journal)] == lost_journal, "the new journal does not continue the lost one")

new_outputs = run(["export", new, "--outputs"]).stdout.splitlines()
by_key = {}
for line in new_outputs:
    o = json.loads(line)
    by_key[(o["node"], o["seq"])] = line
for line in lost_outputs:
    o = json.loads(line)
    check(by_key.get((o["node"], o["seq"])) == line,
          f"{o['node']} seq {o['seq']}: the new engine's output differs from the lost one's")
seqs = {}
for node, seq in by_key:
    seqs.setdefault(node, []).append(seq)
for node, s in seqs.items():
    check(sorted(s) == list(range(1, len(s) + 1)), f"{node}: seqs are not 1..{len(s)}")
check_parity(new, replayed(new, cfg, os.path.join(wd, "new.replay")), "the new dir against its replay",
             min_outputs=100)

# A dir with another journal, behind the cluster, under the same engine_id: refused. (The lost
# dir with its last journal record replaced by its first one.)
other = os.path.join(wd, "other")
shutil.copytree(lost, other, ignore=shutil.ignore_patterns("shoal.sock", "shoal.lock"))
env = lmdb.open(other, max_dbs=8, subdir=True)
journal = env.open_db(b"journal")
with env.begin(write=True, db=journal) as txn:
    cur = txn.cursor()
    cur.first()
    first = cur.value()
    cur.last()
    txn.put(cur.key(), first)
env.close()
r = run(["run", cfg, "--data", other, "--for", "1s"], timeout=60)
check(r.returncode != 0 and f"data dir {other} is not engine t1's" in r.stderr,
      f"another engine's dir: {r.returncode} {r.stderr}")
print("ok")
