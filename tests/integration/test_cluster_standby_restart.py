"""Cluster mode: a standby checkpoints as it follows. Engine s1 runs on a 3-server JetStream
cluster with a standby following its journal; the standby is killed with kill -9 and started
again on its dir. It goes on from the last checkpoint it wrote while following (not from the
journal's start: it never stopped cleanly before), catches up the journal after it, and follows
the engine again:
  - it says where it resumes, and the catch-up starts right after that checkpoint;
  - every output it stored, before and after the kill, has the engine's seq and bytes, and each
    node's seqs run 1, 2, 3, ... without a gap."""
import json
import os
import re
import signal
import subprocess

from cluster_harness import cluster_engine_config, cluster_state, local_cluster, stored_outputs
from harness import check, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)


def config(name):
    return cluster_engine_config(wd, name, "s1", f'{cluster.servers_line}\nengine_id = "s1"\nheartbeat_ttl = "2s"')[0]


active_dir, standby_dir = os.path.join(wd, "active"), os.path.join(wd, "standby")
cfg_a, cfg_b = config("a"), config("b")
active = start(["run", cfg_a, "--data", active_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(active_dir).get("replicated", 0) >= 500, timeout=60, what="s1's journal in the cluster")
standby = start(["run", cfg_b, "--standby", "--data", standby_dir, "--checkpoint-every", "100"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(standby_dir).get("followed", 0) >= 4000, timeout=60, what="the standby following s1")


def standby_checkpoint():
    r = run(["admin", "--socket", os.path.join(standby_dir, "shoal.sock"), "status", "--json"], timeout=10)
    return json.loads(r.stdout).get("checkpoint_journal_pos", 0) if r.returncode == 0 else 0


# What it took is committed behind what it follows: killed before a checkpoint past 2000 is
# committed, it would rightly start from an earlier one.
wait_for(lambda: standby_checkpoint() >= 2000, timeout=60, what="the standby's checkpoint past journal record 2000")
standby.send_signal(signal.SIGKILL)
standby.wait()

log_path = os.path.join(wd, "standby.log")
standby = start(["run", cfg_b, "--standby", "--data", standby_dir, "--checkpoint-every", "100"],
                stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
wait_for(lambda: cluster_state(standby_dir).get("followed", 0) >= 6000, timeout=60, what="the standby following s1 again")
standby.send_signal(signal.SIGTERM)
check(standby.wait(timeout=60) == 0, "the standby did not stop cleanly")
active.send_signal(signal.SIGTERM)
check(active.wait(timeout=60) == 0, "s1 did not stop cleanly")

log = open(log_path).read()
m = re.search(r"resuming data dir \S+: \d+ journal records, last checkpoint at journal position (\d+)", log)
check(m is not None, f"the standby does not say where it resumes:\n{log}")
pos = int(m.group(1))
check(pos >= 2000, f"the standby resumed from journal position {pos}: it did not checkpoint as it followed")
c = re.search(r"catching up journal records (\d+)\.\.", log)
check(c is None or int(c.group(1)) == pos + 1, f"the catch-up does not start after the checkpoint:\n{log}")

engine_out, standby_out = stored_outputs(active_dir), stored_outputs(standby_dir)
check(len(standby_out) > 1000, f"the standby stored {len(standby_out)} outputs")
for key, line in standby_out.items():
    check(engine_out.get(key) == line, f"{key}: the standby's output differs from s1's (or s1 lacks it)")
seqs = {}
for node, seq in standby_out:
    seqs.setdefault(node, []).append(seq)
for node, s in seqs.items():
    check(sorted(s) == list(range(1, len(s) + 1)), f"{node}: the standby's seqs are not 1..{len(s)}")
print(f"ok: the standby resumed from journal position {pos}")
