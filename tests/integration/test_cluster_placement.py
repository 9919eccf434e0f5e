"""Cluster mode, placement by NodeID (issue 14, acceptance 1): three JetStream servers and three
processes of one engine run scenarios/blue with [cluster] members = 3. The active process places
the nodes on itself and the two standbys (admin `cluster` shows nodes on each); each process
computes its nodes and what is upstream of them from the shared journal, and publishes only its
own. Checked:
  - every node is placed on exactly one process, and each process has some;
  - each process's publish endpoint carries its own nodes only (the streams on the active one),
    so every node arrives from exactly one process;
  - every node's stored outputs, on the process that owns it, are byte-identical to a
    single-process replay of the same journal, and so is every other node a process computed;
  - the active process refuses graph changes while placed (the standbys stop first in each
    round: a placed standby takes the engine over when the active process stops);
  - a and b restarted on their dirs while c stays stopped (its key left to expire, role away):
    a and b keep their nodes and go on from their checkpoints; c's go to a or b, which rebuild
    from their journals (the parity above covers both rounds; c's against its own journal);
  - a placed dir run without the placement is refused (it lacks the other nodes' state)."""
import json
import os
import re
import signal
import subprocess

import zmq

from cluster_harness import cluster_state, local_cluster, receive_from_all
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
    # No console or metrics listener: three processes need none, and fewer ports fewer clashes.
    text = re.sub(r'^(console|metrics_http|admin_token) = .*$', "", text, flags=re.M)
    text = text.replace("[[source]]", f'[cluster]\n{cluster.servers_line}\nheartbeat_ttl = "{TTL_S}s"\n'
                                      'members = 3\n\n[[source]]', 1)
    path = os.path.join(wd, f"{name}.toml")
    open(path, "w").write(text)
    return path, port


cfgs, ports, data = {}, {}, {}
for name in ("a", "b", "c"):
    cfgs[name], ports[name] = config(name)
    data[name] = os.path.join(wd, name)

# Every message each process publishes, by topic, over both rounds.
topics = {name: {} for name in ports}


def count(name, frames):
    topic = frames[0].decode()
    topics[name][topic] = topics[name].get(topic, 0) + 1


stop_receiving = receive_from_all(zmq.Context(), ports, count)


def log(n, number):
    return os.path.join(wd, f"{n}-{number}.log")


def run_round(number, check_submit, standbys=("b", "c")):
    """The STANDBYS, then the active process; returns the placement as each of them shows it,
    once each standby published a stretch of its nodes and all of them stopped."""
    procs, logs = {}, {n: log(n, number) for n in data}
    for n in standbys:  # the standbys first: the active process places nodes on those it finds
        procs[n] = start(["run", cfgs[n], "--data", data[n], "--standby"], stdout=subprocess.DEVNULL,
                         stderr=open(logs[n], "w"))
    for n in standbys:
        wait_for(lambda: "waiting for the placement" in open(logs[n]).read(), timeout=30,
                 what=f"standby {n} waiting for a placement")
    procs["a"] = start(["run", cfgs["a"], "--data", data["a"]], stdout=subprocess.DEVNULL, stderr=open(logs["a"], "w"))
    wait_for(lambda: all("placement" in cluster_state(data[n]) for n in ("a",) + standbys), timeout=60,
             what="the placement on every process")
    states = {n: cluster_state(data[n]) for n in ("a",) + standbys}
    for n in standbys:
        check(states[n]["placement"]["nodes"] == states["a"]["placement"]["nodes"],
              f"{n} reads another placement: {states[n]}")
        check(states[n]["role"] == "standby", f"{n}: {states[n]}")
    if check_submit:
        extra = os.path.join(wd, "extra.toml")
        open(extra, "w").write('[strategy]\nname = "extra"\n\n[[node]]\nname = "e"\nkind = "zscore"\n'
                               'params = { window = 7 }\ninputs = { in = "market.scan" }\n')
        r = run(["admin", "--socket", os.path.join(data["a"], "shoal.sock"), "submit", extra])
        check(r.returncode != 0 and "placed on 3 processes" in r.stdout + r.stderr,
              f"a placed engine takes no graph change: {r.stdout}{r.stderr}")
        # A node restart is journaled and applied by every process at its journal position (a
        # control record that changes no graph: the next start still places the nodes).
        r = run(["admin", "--socket", os.path.join(data["a"], "shoal.sock"), "restart", "esof"])
        check(r.returncode == 0, f"restart esof on a placed engine: {r.stdout}{r.stderr}")
    # The standbys stop first, once each published a stretch of its nodes, then at once the active
    # process: a placed standby takes the engine over when the active process stops
    # (test_cluster_placed_failover), and this round ends with all of them stopped, their nodes
    # where they were (a stopped standby's key stays for heartbeat_ttl, role away, and an away
    # member takes no nodes). Each dir is compared with a replay of its own journal.
    mine = {n: [k for k, v in states["a"]["placement"]["nodes"].items() if v == states[n]["placement"]["instance"]]
            for n in standbys}

    def published(n, least):
        r = run(["admin", "--socket", os.path.join(data[n], "shoal.sock"), "nodes", "--json"], timeout=10)
        nodes = json.loads(r.stdout)["nodes"] if r.returncode == 0 else []
        return all(x["outputs"] >= least for x in nodes if x["name"] in mine[n]) and nodes

    wait_for(lambda: all(published(n, 20) for n in standbys), timeout=60, what="the standbys publishing their nodes")
    # A process that started nodes handed to it from their last process's checkpoint stores their
    # outputs before it once live: each dir is compared whole below.
    wait_for(lambda: all(cluster_state(data[n]).get("backfill", {"done": True}).get("done") for n in procs),
             timeout=60, what="the outputs of handed nodes before the checkpoints they started from")
    for n in standbys:
        s = cluster_state(data[n])
        check(s["role"] == "standby", f"{n} is not a standby: {s}")
    # Both at once: a standby stopped alone leaves its key (away) to expire in heartbeat_ttl, and
    # a would move its nodes if the other's stop took longer than that.
    for n in standbys:
        procs[n].send_signal(signal.SIGTERM)
    for n in standbys:
        check(procs[n].wait(timeout=60) == 0, f"standby {n} did not stop cleanly: {open(logs[n]).read()[-3000:]}")
    procs["a"].send_signal(signal.SIGTERM)
    check(procs["a"].wait(timeout=60) == 0, f"the active process failed: {open(logs['a']).read()[-3000:]}")
    records = json.loads(run(["manifest", data["a"], "--json"]).stdout)["journal"]["records"]
    print(f"round {number}: journal {records} records, placement",
          json.dumps(states["a"]["placement"]["nodes"], sort_keys=True))
    return states


states = run_round(1, True)
placement = states["a"]["placement"]
instance = {n: states[n]["placement"]["instance"] for n in states}
check(sorted(placement["members"]) == sorted(instance.values()), f"the members placed on: {placement}")
nodes = placement["nodes"]
owned = {n: sorted(k for k, v in nodes.items() if v == instance[n]) for n in instance}
check(set(nodes) == {"scanner", "selector", "dc", "ob", "acb", "mc", "esof", "posture", "sizing"},
      f"every node placed: {sorted(nodes)}")
check(all(owned[n] for n in owned), f"a process has no node: {owned}")

# a and b restarted on their dirs, c gone for good: each is the same process to the cluster (its
# name is kept in its data dir), so their nodes stay where they were and go on from their
# checkpoints; c's go to a or b, which rebuild from their journals (the active process after
# waiting for the standby that does not come).
again = run_round(2, False, standbys=("b",))
moved = {}
for n in ("a", "b"):
    check(again[n]["placement"]["instance"] == instance[n], f"{n} came back under another name: {again[n]}")
    now = again[n]["placement"]["nodes"]
    check(sorted(again[n]["placement"]["members"]) == sorted([instance["a"], instance["b"]]), f"members: {again[n]}")
    for node, where in nodes.items():
        if where != instance["c"]:
            check(now[node] == where, f"{node} moved off {where} after a restart: {again[n]}")
        else:
            moved[node] = next(m for m in ("a", "b") if instance[m] == now[node])
# Each heir starts them from c's checkpoint in the cluster when the placement carries what c last
# said it published (its key was still listed when a placed them) and that checkpoint is not past
# it (test_cluster_placed_failover); else it rebuilds every node it computes. The active process a
# does either once its sources run; the standby b as it restarts.
for heir in set(moved.values()):
    text = open(log(heir, 2)).read()
    restored = "to this process start from" in text
    check(restored != ("rebuilds every node it computes" in text),
          f"{heir} took nodes of c without rebuilding or restoring them, or did both: {text[-3000:]}")
    if heir == "a":
        check("its sources journal what a feed sends while" in text, f"a took c's nodes before its sources ran: {text[-3000:]}")
stop_receiving()

# Each endpoint carried its own nodes (the streams on the active one's; c's on their heirs in the
# second round) and nothing else.
streams = {"market.scan", "market.ob"}
for n in instance:
    mine = set(owned[n]) | {k for k, h in moved.items() if h == n} | (streams if n == "a" else set())
    got = set(topics[n])
    check(got <= mine, f"{n} published nodes it does not own: {sorted(got - mine)}")
    check(set(mine) <= got, f"{n} did not publish {sorted(set(mine) - got)}")

# Against one process replaying the same journal (each dir's own: the standbys stopped first):
# every node's outputs where it was computed.
latest = {"a": again["a"], "b": again["b"], "c": states["c"]}
for n in instance:
    single = os.path.join(wd, f"single-{n}")
    r = run(["replay", data[n], "--out", single])
    check(r.returncode == 0, f"replay: {r.stderr}")
    p = run(["parity", single, data[n]])
    rows = parity_rows(p.stdout)
    computed = set(latest[n]["placement"]["computed"])
    for node in nodes:
        x, y, eq = rows.get(node, (0, 0, False))
        if node in computed:
            check(eq and x == y and x > 0, f"{node} on {n} ({'owned' if node in owned[n] else 'upstream'}) "
                                           f"differs from the single process:\n{p.stdout}")
        else:
            check(y == 0, f"{n} stored {node}, which it does not compute:\n{p.stdout}")
    check(set(owned[n]) <= computed, f"{n} does not compute its own nodes: {computed}")

# A placed dir that did not compute every node (the process owning sizing computes them all),
# run without the placement: it rebuilds every node from its journal (not run with nodes whose
# state and seqs it lacks, nor refused), then runs live and its store equals a replay.
partial = next(n for n in ("a", "b", "c") if len(latest[n]["placement"]["computed"]) < len(nodes))
lone = os.path.join(wd, "lone.toml")
open(lone, "w").write(re.sub(r"\[cluster\].*?(?=\[\[source\]\])", "", open(cfgs[partial]).read(), flags=re.S))
r = run(["run", lone, "--data", data[partial], "--for", "1s"], timeout=120)
check(r.returncode == 0 and "publishes every node now" in r.stderr and "so it rebuilds every node" in r.stderr,
      f"a placed dir run whole: {r.returncode} {r.stderr[-2000:]}")
single = os.path.join(wd, "single-lone")
check(run(["replay", data[partial], "--out", single]).returncode == 0, "replay of the dir run whole")
p = run(["parity", single, data[partial]])
rows = parity_rows(p.stdout)
for node in nodes:
    x, y, eq = rows.get(node, (0, 0, False))
    check(eq and x == y and x > 0, f"{node} on {partial} run whole differs from the single process:\n{p.stdout}")
print("ok:", {n: owned[n] for n in sorted(owned)}, "then c's moved to", moved)
