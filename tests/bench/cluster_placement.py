"""Cluster mode with placement (scripts/bench, docs/cluster.md, issue 14's benchmark): the same
graph (scenarios/blue: 48 assets with order books, 9 nodes) run by one process and by three
processes of one engine ([cluster] members = 3) on one local 3-server JetStream cluster (R3).
The single process has [cluster] too, so both journal to the same cluster; the difference is
the placement: the standbys take the active process's journal from the stream (the JetStream
hop) before computing their nodes.

Measured at a subscriber of every process, by wall clock on arrival:
  latency  a scan every 10 ms: from a bucket's market.scan (published by the active process as
           it ingests) to the same bucket's output of the deepest node placed on a standby
           (sizing when a standby has it), p50 and p99 over the buckets after warm-up
  rate     a scan every 2 ms (about 25,000 journal records/s, more than this VM's cluster
           replicates): that node's outputs per second, from its first to its last
and each process's CPU seconds over the paced run (what it computes).

When the active process stops (--for), a placed standby takes its lease and goes on ingesting
as the active process (docs/cluster.md); the figures count only the buckets the first active
process ingested (those whose market.scan came first from it), and the standbys' CPU is read
when it stops.

Usage: cluster_placement.py SHOAL_BIN [SECONDS]
BENCH_COMMIT_MS=N sets every process's [engine] commit_ms (the group commit a record waits
for before it is replicated; 20 ms by default)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zmq

from bench_cluster import SOURCE, admin, cluster_down, cluster_up, free_port, percentile

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8
BLUE = open(os.path.join(SOURCE, "scenarios/blue/graph.toml")).read()


def config(path, servers, engine_id, members, pace):
    text = re.sub(r'^publish = .*$', f'publish = "tcp://127.0.0.1:{free_port()}"', BLUE, flags=re.M)
    text = re.sub(r'^snapshot = .*$', f'snapshot = "tcp://127.0.0.1:{free_port()}"', text, flags=re.M)
    text = re.sub(r'^(console|metrics_http|admin_token) = .*$', "", text, flags=re.M)
    text = re.sub(r'^pace = .*$', f'pace = "{pace}"', text, flags=re.M)
    text = text.replace("[[source]]", f'[cluster]\n{servers}\nengine_id = "{engine_id}"\n'
                                      f'heartbeat_ttl = "2s"\nmembers = {members}\n\n[[source]]', 1)
    if os.environ.get("BENCH_COMMIT_MS"):
        text = text.replace("[engine]\n", f"[engine]\ncommit_ms = {int(os.environ['BENCH_COMMIT_MS'])}\n", 1)
    open(path, "w").write(text)
    return int(re.search(r'^publish = "tcp://127.0.0.1:(\d+)"', text, flags=re.M).group(1))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class arrivals:
    """Wall-clock arrival of each topic's buckets (the first copy), from every endpoint."""

    def __init__(self, ports):
        self.first, self.source = {}, {}  # topic -> bucket -> first arrival, its endpoint
        self.stop = threading.Event()
        self.ctx = zmq.Context()
        self.socks = []
        for port in ports:
            s = self.ctx.socket(zmq.SUB)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.setsockopt(zmq.RCVHWM, 0)
            s.connect(f"tcp://127.0.0.1:{port}")
            self.socks.append(s)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        poller = zmq.Poller()
        for s in self.socks:
            poller.register(s, zmq.POLLIN)
        while not self.stop.is_set():
            for s, _ in poller.poll(20):
                endpoint = self.socks.index(s)
                while True:
                    try:
                        topic, body = s.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    now = time.monotonic()
                    topic = topic.decode()
                    bucket = msgpack.unpackb(body, raw=False)["bucket"]
                    if bucket not in self.first.setdefault(topic, {}):
                        self.first[topic][bucket] = now
                        self.source.setdefault(topic, {})[bucket] = endpoint

    def ingested(self):
        """The buckets the first active process (endpoint 0) ingested: not those of a standby
        that took the lease when it stopped."""
        return {b for b, e in self.source.get("market.scan", {}).items() if e == 0}

    def delays_us(self, node):
        """market.scan → NODE of the same bucket, past the first fifth (warm-up)."""
        scan, out, mine = self.first.get("market.scan", {}), self.first.get(node, {}), self.ingested()
        d = [(out[b] - scan[b]) * 1e6 for b in sorted(out) if b in scan and b in mine]
        return d[len(d) // 5:]

    def rate(self, node):
        """NODE's outputs per second from its first to its last (a process that falls behind
        the feed delivers the rest after the feed stops, and its rate drops below the feed's)."""
        mine = self.ingested()
        times = sorted(t for b, t in self.first.get(node, {}).items() if b in mine)
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close(0)
        self.ctx.term()


def run_engine(work, servers, members, pace, tag):
    """Runs blue on `members` processes for SECONDS; returns (arrivals, cpu seconds per process)."""
    engine_id = f"blue-{tag}"
    procs, ports, names = [], [], ["active"] + [f"standby{i}" for i in range(1, members)]
    for name in names[1:]:  # standbys first: the active process places nodes on those it finds
        port = config(os.path.join(work, f"{tag}-{name}.toml"), servers, engine_id, members, pace)
        log = os.path.join(work, f"{tag}-{name}.log")
        procs.append(subprocess.Popen([SHOAL, "run", os.path.join(work, f"{tag}-{name}.toml"), "--standby",
                                       "--data", os.path.join(work, f"{tag}-{name}")],
                                      stdout=subprocess.DEVNULL, stderr=open(log, "w")))
        ports.append(port)
        deadline = time.monotonic() + 30
        while "waiting for the placement" not in open(log).read() and time.monotonic() < deadline:
            time.sleep(0.05)
    port = config(os.path.join(work, f"{tag}-active.toml"), servers, engine_id, members, pace)
    ports.insert(0, port)
    got = arrivals(ports)
    active = subprocess.Popen([SHOAL, "run", os.path.join(work, f"{tag}-active.toml"), "--data",
                               os.path.join(work, f"{tag}-active"), "--for", f"{SECONDS + 3}s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.insert(0, active)
    placement = {}
    if members > 1:  # the figures are a placement's only when the nodes were placed
        deadline = time.monotonic() + 60
        while len(placement.get("members", [])) != members and time.monotonic() < deadline and active.poll() is None:
            placement = admin(SHOAL, os.path.join(work, f"{tag}-active"), "cluster").get("placement", {})
            time.sleep(0.2)
        if len(placement.get("members", [])) != members:
            sys.exit(f"the nodes were placed on {placement}, not on {members} processes")
    active.wait(timeout=SECONDS + 120)
    cpu = [cpu_seconds(p.pid) for p in procs[1:]]  # as the lease goes to one of them
    # The standbys finish what the active process journaled before they are measured.
    deadline = time.monotonic() + 60
    data = [os.path.join(work, f"{tag}-{n}") for n in names[1:]]
    while data and time.monotonic() < deadline:
        followed = [admin(SHOAL, d, "cluster").get("followed", 0) for d in data]
        time.sleep(0.5)
        if followed == [admin(SHOAL, d, "cluster").get("followed", 0) for d in data]:
            break
    for p in procs[1:]:
        p.terminate()
        p.wait(timeout=60)
    got.close()
    return got, cpu, placement


work = tempfile.mkdtemp(prefix="shoal-placement-bench-")
nats = os.path.join(work, "nats")
try:
    servers = cluster_up(nats)
    # Three processes first: the node measured is the graph's deepest one placed on a standby
    # (one the JetStream hop reaches), and the same node is measured on one process.
    paced3, cpu, placement = run_engine(work, servers, 3, "10ms", "paced3")
    order = ["sizing", "posture", "mc", "acb", "dc", "esof", "ob", "selector", "scanner"]
    node = next(n for n in order if placement["nodes"].get(n) not in (None, placement["instance"]))
    fast3, _, fast_placement = run_engine(work, servers, 3, "2ms", "fast3")
    paced1, _, _ = run_engine(work, servers, 1, "10ms", "paced1")
    fast1, _, _ = run_engine(work, servers, 1, "2ms", "fast1")
    print(f"placement_node_measured {node}  (on a placed standby; the active process has "
          f"{', '.join(k for k, v in sorted(placement['nodes'].items()) if v == placement['instance'])})")
    if fast_placement["nodes"].get(node) in (None, fast_placement["instance"]):
        print(f"  ({node} was placed on the active process in the 2 ms run: its rate there "
              f"has no JetStream hop)")
    figures = {}
    for label, paced, fast in (("single", paced1, fast1), ("3_processes", paced3, fast3)):
        d = paced.delays_us(node)
        figures[label] = (percentile(d, 50), percentile(d, 99), fast.rate(node))
        print(f"placement_{label}_scan_to_node_p50_us {figures[label][0]:.0f}")
        print(f"placement_{label}_scan_to_node_p99_us {figures[label][1]:.0f}")
        print(f"placement_{label}_node_per_s {figures[label][2]:.0f}  (a scan every 2 ms)")
    print(f"placement_3_processes_standby_cpu_s {' '.join(f'{c:.1f}' for c in cpu)}  "
          f"(each placed standby, over the paced run, until the active process stopped)")
    (p50a, p99a, ra), (p50b, p99b, rb) = figures["single"], figures["3_processes"]
    print(f"placement_3_over_single_p50 {p50b / p50a:.2f}  p99 {p99b / p99a:.2f}  "
          f"rate {rb / ra if ra else 0:.2f}")
finally:
    cluster_down(nats)
    shutil.rmtree(work, ignore_errors=True)
