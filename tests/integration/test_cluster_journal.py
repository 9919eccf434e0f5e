"""Cluster mode, the replicated journal (issue 14, acceptance 3, 4, 5 for one engine): a real
3-server JetStream cluster on loopback (scripts/cluster). An engine with [cluster] copies its
committed journal to the stream while it runs; one nats-server is killed with kill -9 mid-run,
then the engine itself; the engine starts again on its dir. Then:
  - the journal read back from the cluster (`shoal replay --cluster`) is the data dir's, record
    for record: nothing lost, and each record stored once although the restart sent its last
    batch again (same message ids);
  - replaying it gives parity with the live engine's stored outputs;
  - a [cluster] without servers, and a cluster nobody answers, are clear errors."""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import time

from harness import SHOAL, SOURCE_DIR, check, check_parity, free_port, run, start, wait_for, workdir

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
base = next(b for b in range(21000 + (os.getpid() % 50) * 300, 60000, 300) if ports_free(b))
up = subprocess.run([CLUSTER, "up", "--servers", "3", "--dir", nats_dir, "--port", str(base)],
                    capture_output=True, text=True, timeout=60)
atexit.register(lambda: subprocess.run([CLUSTER, "down", "--dir", nats_dir], capture_output=True))
check(up.returncode == 0, f"scripts/cluster up: {up.stderr}")
servers_line = up.stdout.strip()
check(servers_line.startswith("servers = ["), f"scripts/cluster up printed {up.stdout!r}")
urls = subprocess.run([CLUSTER, "urls", "--dir", nats_dir], capture_output=True, text=True).stdout.strip()
check(len(urls.split(",")) == 3, f"urls: {urls}")

cfg = os.path.join(wd, "engine.toml")
open(cfg, "w").write(f"""
[engine]
name = "c1"
publish = "tcp://127.0.0.1:{free_port()}"

[cluster]
{servers_line}
engine_id = "c1"
replicas = 3

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
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")


def cluster_state():
    r = run(["admin", "--socket", sock, "cluster", "--json"], timeout=10)
    if r.returncode != 0:
        return {}
    return json.loads(r.stdout)


def replicated():
    return cluster_state().get("replicated", 0)


engine = start(["run", cfg, "--data", data, "--checkpoint-every", "300"],
               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wait_for(lambda: replicated() >= 500, timeout=30, what="500 journal records in the cluster")
state = cluster_state()
check(state.get("enabled") and state.get("stream") == "SHOAL" and state.get("subject") == "shoal.in.c1",
      f"admin cluster: {state}")

# kill -9 the server the engine is connected to: it reconnects to another, and the stream (R3)
# keeps a quorum.
connected = state["connected"]
port = int(connected.rsplit(":", 1)[1])
victim = port - base
pid = int(open(os.path.join(nats_dir, f"n{victim}", "pid")).read())
os.kill(pid, signal.SIGKILL)
before = replicated()
wait_for(lambda: replicated() >= before + 1000, timeout=60,
         what="replication going on with one server killed")
state = cluster_state()
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
