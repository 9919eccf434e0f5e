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
import json
import os
import shutil
import signal
import subprocess

import lmdb

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, check_parity, replayed, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)
# Without checkpoints in the cluster: the new host computes the whole journal, so its dir holds
# every output from the first (test_cluster_checkpoint.py takes over from a checkpoint).
cfg, _ = cluster_engine_config(wd, "t1", "t1", f'{cluster.servers_line}\nengine_id = "t1"\ncheckpoints = false')
lost = os.path.join(wd, "lost")


def replicated():
    return cluster_state(lost).get("replicated", 0)


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
