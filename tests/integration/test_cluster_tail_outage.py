"""`shoal tail --cluster` while the JetStream cluster does not answer (its three servers frozen with
SIGSTOP, as a partition between the subscriber and the cluster would): tail reads the members of
the engine on a thread of its own, so it goes on printing what the engine publishes — without a
pause as long as a request's timeout (2 s) — and every seq stays in order, once. Once the servers
answer again it keeps following; Ctrl-C while they are frozen again ends it at once, with 130."""
import json
import os
import signal
import subprocess
import time

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd)
cfg, _ = cluster_engine_config(wd, "engine", "t1", cluster.servers_line + '\nheartbeat_ttl = "1s"')
data = os.path.join(wd, "data")
engine = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(data).get("members"), timeout=30, what="the engine a member of t1")

out_path, err_path = os.path.join(wd, "tail.jsonl"), os.path.join(wd, "tail.err")
tail = start(["tail", "--cluster", cfg, "z", "--json"], stdout=open(out_path, "w"), stderr=open(err_path, "w"))


def printed():
    return [json.loads(line) for line in open(out_path).read().splitlines() if line.endswith("}")]


wait_for(lambda: len(printed()) >= 100, timeout=30, what="shoal tail --cluster printing z")

# 3 s without the cluster: tail reads the members once a second, each read waiting up to 2 s.
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGSTOP)
stopped_at = time.monotonic()
size, grown_at, longest = os.path.getsize(out_path), stopped_at, 0.0
while time.monotonic() < stopped_at + 3.0:
    time.sleep(0.02)
    now, new_size = time.monotonic(), os.path.getsize(out_path)
    if new_size != size:
        longest = max(longest, now - grown_at)
        size, grown_at = new_size, now
longest = max(longest, time.monotonic() - grown_at)
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGCONT)
print(f"longest pause in tail's output while the cluster was frozen: {longest:.3f} s")
# The engine prints a z every 2 ms: a pause of 0.75 s is the tail waiting, not the engine.
check(longest < 0.75, f"shoal tail --cluster stopped printing for {longest:.2f} s while the cluster did not answer")

before = len(printed())
wait_for(lambda: len(printed()) >= before + 200, timeout=30, what="tail printing after the cluster is back")

# Ctrl-C while the cluster does not answer: tail ends at once, not after its read gives up.
for i in range(3):
    os.kill(cluster.pid(i), signal.SIGSTOP)
time.sleep(1.5)  # a read of the members is now waiting on the frozen servers
began = time.monotonic()
tail.send_signal(signal.SIGINT)
try:
    code = tail.wait(timeout=10)
finally:
    for i in range(3):
        os.kill(cluster.pid(i), signal.SIGCONT)
took = time.monotonic() - began
print(f"tail stopped {took:.2f} s after Ctrl-C with the cluster frozen")
check(code == 130 and took < 2.0, f"shoal tail --cluster took {took:.2f} s to stop on Ctrl-C (exit {code})")
seqs = [o["seq"] for o in printed()]
check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"tail's seqs have a gap or a repeat: {seqs[:5]}...")
check("gap" not in open(err_path).read(), open(err_path).read())
engine.terminate()
engine.wait(timeout=30)
print("ok")
