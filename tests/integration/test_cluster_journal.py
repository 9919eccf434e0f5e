"""Cluster mode, the replicated journal (issue 14, acceptance 3, 4, 5 for one engine): a real
3-server JetStream cluster on loopback (scripts/cluster). An engine with [cluster] copies its
committed journal to the stream while it runs; one nats-server is killed with kill -9 mid-run,
then the engine itself; the engine starts again on its dir. Then:
  - the journal read back from the cluster (`shoal replay --cluster`) is the data dir's, record
    for record: nothing lost, and each record stored once although the restart sent its last
    batch again (same message ids);
  - replaying it gives parity with the live engine's stored outputs;
  - a [cluster] without servers, and a cluster nobody answers, are clear errors."""
import os
import re
import signal
import subprocess

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, check_parity, free_port, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)
servers_line, urls = cluster.servers_line, cluster.urls
cfg, _ = cluster_engine_config(wd, "engine", "c1", f'{servers_line}\nengine_id = "c1"\nreplicas = 3\nheartbeat_ttl = "1s"')
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")


def replicated():
    return cluster_state(data).get("replicated", 0)


engine = start(["run", cfg, "--data", data, "--checkpoint-every", "300"],
               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wait_for(lambda: replicated() >= 500, timeout=30, what="500 journal records in the cluster")
state = cluster_state(data)
check(state.get("enabled") and state.get("stream") == "SHOAL" and state.get("subject") == "shoal.in.c1",
      f"admin cluster: {state}")

# kill -9 the server the engine is connected to: it reconnects to another, and the stream (R3)
# keeps a quorum.
connected = state["connected"]
port = int(connected.rsplit(":", 1)[1])
os.kill(cluster.pid(port - cluster.base), signal.SIGKILL)
before = replicated()
wait_for(lambda: replicated() >= before + 1000, timeout=60,
         what="replication going on with one server killed")
state = cluster_state(data)
check(state["reconnects"] >= 1, f"the engine never reconnected: {state}")
check(state["connected"] and state["connected"] != connected, f"still on the killed server: {state}")
m = run(["admin", "--socket", sock, "metrics"]).stdout
check(re.search(r"^shoal_cluster_journal_replicated \d+", m, re.M), "replication metrics missing")

# kill -9 the engine too, then let it continue on its dir for a while and stop cleanly.
engine.send_signal(signal.SIGKILL)
engine.wait()
r = run(["run", cfg, "--data", data, "--for", "2s"], timeout=60)
check(r.returncode == 0, f"the engine did not continue after kill -9: {r.stderr}")
check("cluster: journal of engine c1 goes to stream SHOAL" in r.stderr, r.stderr)
check("not in the cluster yet" not in r.stderr, f"the stop left records behind: {r.stderr}")

# Read the journal back from the cluster and replay it.
pulled = os.path.join(wd, "pulled")
replayed = os.path.join(wd, "replayed")
r = run(["replay", "--cluster", urls, "--stream", "SHOAL", "--engine-id", "c1", pulled, "--out", replayed])
check(r.returncode == 0, f"replay --cluster: {r.stderr}")
m = re.search(r"copied (\d+) journal records of engine c1 from stream SHOAL \((\d+) messages", r.stderr)
check(m, f"replay --cluster said: {r.stderr}")
records, messages = int(m.group(1)), int(m.group(2))
check(records == messages, f"{messages} messages for {records} records: a resent record was stored twice")
local = run(["export", data, "--journal"]).stdout.splitlines()
remote = run(["export", pulled, "--journal"]).stdout.splitlines()
check(len(local) > 1500, f"only {len(local)} journal records")
check(remote == local, f"the cluster's journal ({len(remote)} records) is not the data dir's ({len(local)})")
check_parity(data, replayed, "live outputs against a replay of the cluster's journal", min_outputs=100)

# A second read of the same stream into a dir that holds data is refused.
r = run(["replay", "--cluster", urls, "--engine-id", "c1", pulled])
check(r.returncode == 2 and "already holds data" in r.stderr, r.stderr)
r = run(["replay", "--cluster", urls, "--engine-id", "nobody", os.path.join(wd, "none")])
check(r.returncode == 2 and "holds no journal of engine nobody" in r.stderr, r.stderr)

# Config errors name the field; an unreachable cluster is said so at start.
bad = os.path.join(wd, "bad.toml")
open(bad, "w").write(open(cfg).read().replace(servers_line, "servers = []"))
r = run(["run", bad, "--data", os.path.join(wd, "bad-data"), "--for", "1s"])
check(r.returncode == 2 and "cluster.servers" in r.stderr, f"empty servers: {r.returncode} {r.stderr}")
dead = os.path.join(wd, "dead.toml")
open(dead, "w").write(open(cfg).read().replace(servers_line, f'servers = ["nats://127.0.0.1:{free_port()}"]'))
r = run(["run", dead, "--data", os.path.join(wd, "dead-data"), "--for", "1s"], timeout=60)
check(r.returncode != 0 and "cannot connect to the NATS cluster" in r.stderr,
      f"unreachable cluster: {r.returncode} {r.stderr}")
print("ok")
