"""Cluster mode: checkpoints in the cluster. Engine k1 runs on a 3-server JetStream cluster and
puts its checkpoints into the bucket <stream>_checkpoints as it runs; it is killed with kill -9
and its data dir is lost with its host. The same config started on an empty dir takes the journal
from the stream, restores the cluster's latest checkpoint and computes only the journal after it:
  - it says which checkpoint it restored, and catches up from the record after it;
  - its journal continues the lost one exactly;
  - every output it stores has the seq and bytes the lost engine gave it, and each node's seqs
    run on from the checkpoint without a gap; a replay of the new dir from the journal's start
    makes the same outputs (parity from the checkpoint on);
  - a clean stop leaves its last checkpoint (at the journal's end) in the cluster: the next
    empty dir restores exactly that one and catches up nothing.
A checkpoint made with another config is not restored: the engine says why and computes the
journal from its start."""
import os
import re
import signal
import subprocess

from cluster_harness import cluster_engine_config, cluster_state, local_cluster, stored_outputs
from harness import check, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)
cfg, _ = cluster_engine_config(wd, "k1", "k1", f'{cluster.servers_line}\nengine_id = "k1"')
lost = os.path.join(wd, "lost")


def restored_at(stderr):
    m = re.search(r"restored engine k1's checkpoint at journal record (\d+) from the cluster", stderr)
    check(m is not None, f"no checkpoint restored:\n{stderr}")
    return int(m.group(1))


engine = start(["run", cfg, "--data", lost, "--checkpoint-every", "300"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def checkpointed():
    s = cluster_state(lost)
    return s.get("checkpoint", {}).get("journal_pos", 0), s.get("replicated", 0)


# A checkpoint in the cluster, and journal records after it (what the new host must compute).
wait_for(lambda: checkpointed()[0] >= 1000 and checkpointed()[1] >= checkpointed()[0] + 500,
         timeout=60, what="a checkpoint in the cluster and 500 journal records after it")
s = cluster_state(lost)["checkpoint"]
check(s["uploads"] >= 1 and s["bytes"] > 0 and s["chunks"] >= 1, f"checkpoint stats {s}")
metrics = run(["admin", "--socket", os.path.join(lost, "shoal.sock"), "metrics"]).stdout
g = re.search(r"^shoal_cluster_checkpoint_journal_pos (\d+)", metrics, re.M)
check(g is not None and int(g.group(1)) >= 1000, "the checkpoint's position is not in the metrics")
check(re.search(r"^shoal_cluster_checkpoint_failures_total \d+", metrics, re.M), "checkpoint failures not in the metrics")
engine.send_signal(signal.SIGKILL)
engine.wait()
lost_journal = run(["export", lost, "--journal"]).stdout.splitlines()
lost_outputs = stored_outputs(lost)

# The new host: same config, empty dir.
new = os.path.join(wd, "new")
r = run(["run", cfg, "--data", new, "--for", "2s"], timeout=120)
check(r.returncode == 0, f"taking over from the cluster: {r.stderr}")
new_log = r.stderr
pos = restored_at(r.stderr)
check(pos >= 1000, f"restored the checkpoint at journal record {pos}")
check(f"catching up journal records {pos + 1}.." in r.stderr, f"the catch-up does not start after {pos}:\n{r.stderr}")
new_journal = run(["export", new, "--journal"]).stdout.splitlines()
check(len(new_journal) > len(lost_journal), f"{len(new_journal)} records after the takeover, {len(lost_journal)} before")
check(new_journal[: len(lost_journal)] == lost_journal, "the new journal does not continue the lost one")

new_outputs = stored_outputs(new)
first = {}
for node, seq in new_outputs:
    first[node] = min(seq, first.get(node, seq))
check(set(first) == {node for node, _ in lost_outputs}, f"nodes {sorted(first)}")
for node, s0 in first.items():
    seqs = sorted(seq for n, seq in new_outputs if n == node)
    check(s0 > 1, f"{node}: the new dir holds its outputs from seq 1: the checkpoint was not used")
    check(seqs == list(range(s0, s0 + len(seqs))), f"{node}: seqs are not contiguous from {s0}")
compared = 0
for (node, seq), line in lost_outputs.items():
    if seq >= first[node]:
        check(new_outputs.get((node, seq)) == line,
              f"{node} seq {seq}: the new engine's output differs from the lost one's (or is missing)")
        compared += 1
check(compared > 100, f"only {compared} outputs of the lost engine after the checkpoint")
# Parity: a replay of the new dir from the journal's start gives every output the new dir holds.
replay = os.path.join(wd, "new.replay")
r = run(["replay", new, "--config", cfg, "--out", replay])
check(r.returncode == 0, f"replay: {r.stderr}")
replayed = stored_outputs(replay)
for key, line in new_outputs.items():
    check(replayed.get(key) == line, f"{key}: the new dir's output differs from the replay's")

# The new engine stopped cleanly: its stop's checkpoint, at its journal's end, is the cluster's.
again = os.path.join(wd, "again")
r = run(["run", cfg, "--data", again, "--for", "1s"], timeout=120)
check(r.returncode == 0, f"a second takeover: {r.stderr}")
check(restored_at(r.stderr) == len(new_journal),
      f"restored at {restored_at(r.stderr)}, the stopped engine's journal ends at {len(new_journal)}; "
      f"its log:\n{new_log[-4000:]}")
# Nothing of the stopped engine's journal to catch up (what its own sources journal from the
# start on may be, under load).
m = re.search(r"catching up journal records (\d+)\.\.", r.stderr)
check(m is None or int(m.group(1)) == len(new_journal) + 1, f"the catch-up reads the old journal again:\n{r.stderr}")

# Another config under the same engine_id (z's window changed): the checkpoint is not its own.
other_cfg = os.path.join(wd, "k1-other.toml")
open(other_cfg, "w").write(open(cfg).read().replace('kind = "zscore"\ninputs = { in = "ret" }',
                                                   'kind = "zscore"\ninputs = { in = "ret" }\nparams = { window = 30 }'))
check(open(other_cfg).read() != open(cfg).read(), "the other config is the same")
other = os.path.join(wd, "other")
r = run(["run", other_cfg, "--data", other, "--for", "1s"], timeout=120)
check(r.returncode == 0, f"another config: {r.stderr}")
check("was made with another config" in r.stderr and "the nodes start from the journal's start" in r.stderr,
      f"another config's takeover does not say why it restored nothing:\n{r.stderr}")
check(min(seq for _, seq in stored_outputs(other)) == 1, "another config's outputs do not start at seq 1")
print("ok")
