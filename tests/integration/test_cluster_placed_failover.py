"""Cluster mode, a placed process killed (issue 14, acceptance 2 for placed nodes): three
JetStream servers and three processes of one engine run scenarios/blue with [cluster] members = 3.
Mid-run one placed standby is killed with SIGKILL. Checked:
  - the active process moves its nodes (admin `cluster` no longer places any on it) within
    2 x heartbeat_ttl of the kill, onto the other standby (the active process takes none);
  - that standby restarts on its data dir, rebuilds from its journal and publishes them, with
    what it had published and what it took over;
  - a subscriber of all three endpoints sees, for every node, seqs with no gap from its first
    to the last one the single-process replay has, and no seq twice with different bytes;
  - the stored outputs of every node the survivors computed are byte-identical to a single
    process replaying the same journal."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import msgpack
import zmq

from cluster_harness import cluster_state, local_cluster
from harness import SOURCE_DIR, check, free_port, parity_rows, run, start, wait_for, workdir

TTL_S = 2
wd = workdir()
cluster = local_cluster(wd)
blue = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()


def config(name):
    port = free_port()
    text = re.sub(r'^publish = "tcp://127\.0\.0\.1:\d+"', f'publish = "tcp://127.0.0.1:{port}"', blue, flags=re.M)
    text = re.sub(r'^snapshot = "tcp://127\.0\.0\.1:\d+"', f'snapshot = "tcp://127.0.0.1:{free_port()}"', text,
                  flags=re.M)
    text = re.sub(r'^(console|metrics_http|admin_token) = .*$', "", text, flags=re.M)
    text = text.replace("[[source]]", f'[cluster]\n{cluster.servers_line}\nheartbeat_ttl = "{TTL_S}s"\n'
                                      'members = 3\n\n[[source]]', 1)
    path = os.path.join(wd, f"{name}.toml")
    open(path, "w").write(text)
    return path, port


cfgs, ports, data, logs = {}, {}, {}, {}
for name in ("a", "b", "c"):
    cfgs[name], ports[name] = config(name)
    data[name] = os.path.join(wd, name)
    logs[name] = os.path.join(wd, f"{name}.log")

# Every output each endpoint carries: (topic, seq) → payload bytes, and clashes.
ctx = zmq.Context()
seen, clashes, lock = {}, [], threading.Lock()
stop_receiving = threading.Event()


def receive_all():
    poller = zmq.Poller()
    socks = {}
    for name, port in ports.items():
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.setsockopt(zmq.RCVHWM, 0)
        s.setsockopt(zmq.RECONNECT_IVL, 10)  # the restarted standby binds again: be back at once
        s.connect(f"tcp://127.0.0.1:{port}")
        poller.register(s, zmq.POLLIN)
        socks[s] = name
    while not stop_receiving.is_set():
        for s, _ in poller.poll(50):
            frames = s.recv_multipart()
            topic = frames[0].decode()
            if topic.endswith(".late"):
                continue
            seq = msgpack.unpackb(frames[-1], raw=False)["seq"]
            with lock:
                before = seen.setdefault((topic, seq), frames[-1])
                if before != frames[-1]:
                    clashes.append((topic, seq, socks[s]))
    for s in socks:
        s.close(0)


receiver = threading.Thread(target=receive_all, daemon=True)
receiver.start()

procs = {}
for n in ("b", "c"):
    procs[n] = start(["run", cfgs[n], "--data", data[n], "--standby"], stdout=subprocess.DEVNULL,
                     stderr=open(logs[n], "w"))
for n in ("b", "c"):
    wait_for(lambda: "waiting for the placement" in open(logs[n]).read(), timeout=30,
             what=f"standby {n} waiting for a placement")
procs["a"] = start(["run", cfgs["a"], "--data", data["a"], "--for", "24s"], stdout=subprocess.DEVNULL,
                   stderr=open(logs["a"], "w"))
wait_for(lambda: all("placement" in cluster_state(data[n]) for n in data), timeout=60,
         what="the placement on all three processes")
first = cluster_state(data["a"])["placement"]
instance = {n: cluster_state(data[n])["placement"]["instance"] for n in data}
owned = {n: sorted(k for k, v in first["nodes"].items() if v == instance[n]) for n in data}
check(owned["b"] and owned["c"], f"a standby has no node: {owned}")

# Let it run, then kill the standby that publishes more nodes. In blue, sizing reads every other
# node, so when the other standby owns it, it already computes the victim's nodes as upstream
# copies (stored, never published): the hand-over, not a missing checkpoint, makes it rebuild.
time.sleep(6)
victim = max(("b", "c"), key=lambda n: (len(owned[n]), n))
heir = "c" if victim == "b" else "b"
procs[victim].send_signal(signal.SIGKILL)
killed_at = time.monotonic()
procs[victim].wait(timeout=10)


def moved():
    p = cluster_state(data["a"]).get("placement", {})
    return p and instance[victim] not in p.get("members", [instance[victim]])


wait_for(moved, timeout=6 * TTL_S, what=f"the nodes of the killed process {victim} moving")
took = time.monotonic() - killed_at
after = cluster_state(data["a"])["placement"]
check(took <= 2 * TTL_S + 0.5, f"the nodes moved {took:.2f} s after the kill (heartbeat_ttl {TTL_S} s)")
for node in owned[victim]:
    check(after["nodes"][node] == instance[heir], f"{node} went to {after['nodes'][node]}, not {heir}: {after}")
for node in owned["a"] + owned[heir]:
    check(after["nodes"][node] == first["nodes"][node], f"{node} moved though its process lives: {after}")
wait_for(lambda: "restarting on data dir" in open(logs[heir]).read(), timeout=10,
         what=f"{heir} restarting to take the nodes of {victim}")
wait_for(lambda: cluster_state(data[heir]).get("placement", {}).get("nodes") == after["nodes"], timeout=60,
         what=f"{heir} back with the new placement")
rebuilt = re.search(r"publishes (\d+) node\(s\) handed to it and computes (\d+)", open(logs[heir]).read())
check(rebuilt and int(rebuilt.group(1)) == len(owned[victim]), f"{heir} did not rebuild the handed nodes: "
                                                               f"{open(logs[heir]).read()[-3000:]}")

check(procs["a"].wait(timeout=90) == 0, f"the active process failed: {open(logs['a']).read()[-3000:]}")
records = json.loads(run(["manifest", data["a"], "--json"]).stdout)["journal"]["records"]
wait_for(lambda: cluster_state(data[heir]).get("followed") == records, timeout=60,
         what=f"{heir} following the whole journal")
final = cluster_state(data[heir])
procs[heir].send_signal(signal.SIGTERM)
check(procs[heir].wait(timeout=60) == 0, f"{heir} did not stop cleanly: {open(logs[heir]).read()[-3000:]}")
time.sleep(0.3)  # the last messages in flight to the subscriber
stop_receiving.set()
receiver.join()

single = os.path.join(wd, "single")
r = run(["replay", data["a"], "--out", single])
check(r.returncode == 0, f"replay: {r.stderr}")
want = parity_rows(run(["parity", single, single]).stdout)

# What a subscriber of every endpoint saw: each node from its first seq to the last one the
# single process has, without a gap, and no seq with two different payloads.
check(not clashes, f"a seq came with different bytes: {clashes[:5]}")
by_topic = {}
for topic, seq in seen:
    by_topic.setdefault(topic, set()).add(seq)
for node in first["nodes"]:
    got = by_topic.get(node, set())
    check(got, f"nothing received of {node}")
    last = want[node][0]
    missing = sorted(set(range(min(got), last + 1)) - got)
    check(max(got) == last and not missing,
          f"{node} ({'moved' if node in owned[victim] else 'stayed'}): received seqs {min(got)}..{max(got)} of "
          f"{last}, missing {missing[:10]}{'...' if len(missing) > 10 else ''}")

# The survivors' stores against the single process, node by node.
for n, nodes in (("a", owned["a"]), (heir, final["placement"]["computed"])):
    p = run(["parity", single, data[n]])
    rows = parity_rows(p.stdout)
    for node in nodes:
        x, y, eq = rows.get(node, (0, 0, False))
        check(eq and x == y and x > 0, f"{node} on {n} differs from the single process:\n{p.stdout}")
print(f"ok: {victim}'s nodes {owned[victim]} moved to {heir} {took:.2f} s after the kill; {heir} rebuilt "
      f"({rebuilt.group(2)} node(s) missing from its checkpoint)")
