"""Shared pieces of the cluster-mode tests: a local JetStream cluster (scripts/cluster) on free
ports, stopped when the test exits; the engine they run (a paced fabricator through log_return →
zscore, with [cluster]); and its admin `cluster` answer."""
import atexit
import json
import os
import socket
import subprocess
import tempfile
from types import SimpleNamespace

from harness import (RET_Z, SOURCE_DIR, check, check_parity, engine_config, fabricator_source, feed_config, nodes_toml,
                     parity_rows, run, start, wait_for)

CLUSTER = os.path.join(SOURCE_DIR, "scripts", "cluster")


def _ports_free(base, servers):
    for p in [base + d + i for d in (0, 100, 200) for i in range(servers)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


_reserved = []


def _reserve(base):
    """Holds a lock on BASE's ports until this test exits: two tests that start together would
    otherwise both find them free, and the second one's servers fail to bind (while its health
    check asks the first one's)."""
    import fcntl
    f = open(os.path.join(tempfile.gettempdir(), f"shoal-nats-{base}.lock"), "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return False
    _reserved.append(f)
    return True


def local_cluster(wd, servers=3, secure=False):
    """Starts SERVERS nats-server processes with JetStream under WD/nats (SECURE: TLS with client
    certificates and a password, scripts/cluster up --secure). Returns .servers_line (the
    [cluster] `servers = [...]` line), .lines (every [cluster] line `up` printed: with SECURE,
    the tls, user and password_file lines too), .urls (comma-separated), .up() and .down() (all
    of them again, same ports and files), .pid(i) and .base (server i's client port is base + i)."""
    nats_dir = os.path.join(wd, "nats")
    # Below the kernel's ephemeral ports: an engine's or a client's port picked by the kernel
    # (publish = "tcp://127.0.0.1:*", an outgoing connection) never takes one of the servers'.
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    bases = list(range(21000, low - 300, 300))
    start = (os.getpid() % len(bases))
    base = next(b for b in bases[start:] + bases[:start] if _reserve(b) and _ports_free(b, servers))
    args = ["--servers", str(servers), "--dir", nats_dir, "--port", str(base)] + (["--secure"] if secure else [])

    def up():
        r = subprocess.run([CLUSTER, "up"] + args, capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"scripts/cluster up: {r.stderr}")
        return r.stdout.strip()

    def down():
        subprocess.run([CLUSTER, "down", "--dir", nats_dir], capture_output=True, timeout=60)

    atexit.register(down)
    lines = up()
    servers_line = lines.splitlines()[0]
    check(servers_line.startswith("servers = ["), f"scripts/cluster up printed {lines!r}")
    urls = subprocess.run([CLUSTER, "urls", "--dir", nats_dir], capture_output=True, text=True).stdout.strip()
    check(len(urls.split(",")) == servers, f"scripts/cluster urls: {urls}")
    return SimpleNamespace(dir=nats_dir, base=base, servers_line=servers_line, lines=lines, urls=urls, up=up, down=down,
                           pid=lambda i: int(open(os.path.join(nats_dir, f"n{i}", "pid")).read()))


def nats_request(port, subject, payload, msg_id=None, before=b""):
    """One request to SUBJECT on the server at PORT (with a message id if MSG_ID) over the NATS
    protocol as any client sends it, after the raw protocol lines BEFORE; returns the answer
    (JSON). For what the engine has no command for: the JetStream API, a publish of its own."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    check(f.readline().startswith(b"INFO "), "the server did not greet")
    headers = f"NATS/1.0\r\nNats-Msg-Id: {msg_id}\r\n\r\n".encode() if msg_id else b""
    verb = f"HPUB {subject} _INBOX.t {len(headers)}" if msg_id else f"PUB {subject} _INBOX.t"
    s.sendall(b'CONNECT {"verbose":false,"headers":true,"protocol":1}\r\nSUB _INBOX.t 1\r\n' + before
              + f"{verb} {len(headers) + len(payload)}\r\n".encode() + headers + payload + b"\r\n")
    while True:
        line = f.readline()
        check(line != b"", "the server closed the connection before answering")
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"-ERR"):
            check(False, f"the server refused the request: {line!r}")
        elif line.startswith(b"MSG _INBOX.t") or line.startswith(b"HMSG _INBOX.t"):
            answer = f.read(int(line.split()[-1]) + 2)[:-2]
            s.close()
            return json.loads(answer.split(b"\r\n\r\n", 1)[-1] if line.startswith(b"H") else answer)


def cluster_engine_config(wd, file_name, engine, cluster_lines, engine_lines=""):
    """Writes WD/FILE_NAME.toml: engine ENGINE (a free publish port, ENGINE_LINES added to
    [engine]) with [cluster] CLUSTER_LINES, fed by a fabricator (seed 9, 10 assets, a scan every
    2 ms) through ret (log_return) and z (zscore). Returns (path, publish port)."""
    return engine_config(wd, engine, fabricator_source(9, 10, "2ms"), RET_Z, engine=engine_lines,
                         tables=f"[cluster]\n{cluster_lines}", file_name=file_name)


def last_seq(data, node):
    """The last seq node NODE made on the engine of data dir DATA (0: none yet)."""
    r = run(["admin", "--socket", os.path.join(data, "shoal.sock"), "--json", "inspect", node], timeout=10)
    last = json.loads(r.stdout).get("last_output") if r.returncode == 0 else None
    return last["seq"] if last else 0


def stored_outputs(data):
    """(node, seq) → the line `shoal export DATA --outputs` prints for that output."""
    found = {}
    for line in run(["export", data, "--outputs"]).stdout.splitlines():
        o = json.loads(line)
        found[(o["node"], o["seq"])] = line
    return found


def cluster_state(data):
    """Admin `cluster` of the engine running on data dir DATA ({} while it does not answer)."""
    r = run(["admin", "--socket", os.path.join(data, "shoal.sock"), "cluster", "--json"], timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def receive_from_all(ctx, ports, on_message):
    """Subscribes to everything each process publishes (PORTS: name → publish port) and calls
    on_message(name, frames) for every message, on a thread of its own, until the returned stop()
    is called (it waits for the thread). A process that restarts binds again: its subscriber is
    back within 10 ms."""
    import threading

    import zmq
    stopping = threading.Event()

    def receive():
        poller = zmq.Poller()
        socks = {}
        for name, port in ports.items():
            s = ctx.socket(zmq.SUB)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.setsockopt(zmq.RCVHWM, 0)
            s.setsockopt(zmq.RECONNECT_IVL, 10)
            s.connect(f"tcp://127.0.0.1:{port}")
            poller.register(s, zmq.POLLIN)
            socks[s] = name
        while not stopping.is_set():
            for s, _ in poller.poll(50):
                on_message(socks[s], s.recv_multipart())
        for s in socks:
            s.close(0)

    thread = threading.Thread(target=receive, daemon=True)  # a failed check must not wait for it
    thread.start()

    def stop():
        stopping.set()
        thread.join()

    return stop


class ScanBursts:
    """Scans of ASSETS on FEED (a bound_feed socket, topic `scan`), one a second of event time
    from START_NS, sent in bursts: burst(count) sends COUNT as fast as the socket takes them, then
    pauses, as a feed that comes in bursts does. `sent` counts them."""

    def __init__(self, feed, assets, start_ns=1767225600 * 10**9):
        self.feed, self.assets, self.start_ns, self.sent = feed, assets, start_ns, 0

    def burst(self, count, pause=0.15):
        import time

        import msgpack
        for _ in range(count):
            k = self.sent
            prices = [100.0 + 10 * i + ((k * (i + 3)) % 17) * 0.25 for i in range(len(self.assets))]
            self.feed.send_multipart([b"scan", msgpack.packb({
                "ts": self.start_ns + k * 10**9 + 1, "scan_number": k, "assets": self.assets, "prices": prices})])
            self.sent += 1
        time.sleep(pause)


def admin_nodes(data):
    """Admin `nodes` of the engine running on data dir DATA: one dict per node ([] while it does
    not answer)."""
    r = run(["admin", "--socket", os.path.join(data, "shoal.sock"), "nodes", "--json"], timeout=10)
    return json.loads(r.stdout)["nodes"] if r.returncode == 0 else []


def node_events(data):
    """Node name → the input events it took, on the engine running on data dir DATA ({} while it
    does not answer)."""
    return {n["name"]: n["events_in"] for n in admin_nodes(data)}


def settled(f):
    """A predicate for wait_for: true once F() (a value read from a process) is truthy and the same
    at two polls in a row, the last value in `settled.last`."""
    def pred():
        now = f()
        done = bool(now) and now == pred.last
        pred.last = now
        return done
    pred.last = None
    return pred


def last_seqs(data, nodes):
    """Node → its last seq on the engine of data dir DATA, for each of NODES; None unless every one
    answered with an output."""
    seqs = {n: last_seq(data, n) for n in nodes}
    return seqs if all(seqs.values()) else None


def scans_ingested(data, stream="feed.scan"):
    """How many outputs STREAM has on the engine running on data dir DATA (0 while it does not
    answer)."""
    return next((n["outputs"] for n in admin_nodes(data) if n["name"] == stream), 0)


def placed_engines(wd, cluster, feed_ep, names, nodes, engine_id, ttl_s, stream="", engine=lambda name: ""):
    """Configs for processes NAMES of one engine ENGINE_ID placed on all of them ([cluster]
    members = len(NAMES), heartbeat_ttl TTL_S), fed by one zmq source `feed` (FEED_EP) of a scan
    stream `scan` (STREAM: more lines for its table) through NODES; ENGINE(name): more [engine]
    lines. Returns dicts by name: configs, publish ports, data dirs, log paths."""
    cfgs, ports, data, logs = {}, {}, {}, {}
    for name in names:
        cfgs[name], ports[name] = feed_config(
            wd, name, feed_ep, {"scan": f'schema = "scan"\none_per_bucket = true\n{stream}'}, nodes=nodes,
            engine=engine(name), source='interval = "1s"')
        open(cfgs[name], "a").write(f'\n[cluster]\n{cluster.servers_line}\nengine_id = "{engine_id}"\n'
                                    f'heartbeat_ttl = "{ttl_s}s"\nmembers = {len(names)}\n')
        data[name] = os.path.join(wd, name)
        logs[name] = os.path.join(wd, f"{name}.log")
    return cfgs, ports, data, logs


def start_placed(cfgs, data, logs, active, subscribed, envs=None):
    """Starts every process of placed_engines' configs: the standbys first, each waiting for a
    placement, then ACTIVE; SUBSCRIBED() waits for its feed subscription; ENVS: more environment
    variables by name. Once every process has the placement, returns (processes, the placement as
    ACTIVE's admin `cluster` shows it, each process's instance, the nodes each publishes), all by
    name."""
    procs = {}
    env = {n: {**os.environ, **(envs or {}).get(n, {})} for n in cfgs}
    for n in cfgs:
        if n != active:
            procs[n] = start(["run", cfgs[n], "--data", data[n], "--standby"], stdout=subprocess.DEVNULL,
                             stderr=open(logs[n], "w"), env=env[n])
    for n in procs:
        wait_for(lambda: "waiting for the placement" in open(logs[n]).read(), timeout=30,
                 what=f"standby {n} waiting for a placement")
    procs[active] = start(["run", cfgs[active], "--data", data[active]], stdout=subprocess.DEVNULL,
                          stderr=open(logs[active], "w"), env=env[active])
    subscribed()
    wait_for(lambda: all("placement" in cluster_state(data[n]) for n in data), timeout=60,
             what="the placement on every process")
    first = cluster_state(data[active])["placement"]
    instance = {n: cluster_state(data[n])["placement"]["instance"] for n in data}
    owned = {n: sorted(k for k, v in first["nodes"].items() if v == instance[n]) for n in data}
    return procs, first, instance, owned


class OutputLog:
    """A receive_from_all callback: every output the endpoints carry (late side outputs left out)
    by (topic, seq): its bytes, how many times it came, from which endpoints; `clashes` lists a
    seq that came again with other bytes."""

    def __init__(self):
        self.seen, self.clashes = {}, []

    def __call__(self, name, frames):
        import msgpack
        topic = frames[0].decode()
        if topic.endswith(".late"):
            return
        seq = msgpack.unpackb(frames[-1], raw=False)["seq"]
        entry = self.seen.setdefault((topic, seq), [frames[-1], 0, set()])
        if entry[0] != frames[-1]:
            self.clashes.append((topic, seq, name))
        entry[1] += 1
        entry[2].add(name)

    def seqs(self, topic):
        return sorted(seq for (t, seq) in list(self.seen) if t == topic)

    def repeated(self, topic):
        return sorted(seq for (t, seq), e in list(self.seen.items()) if t == topic and e[1] > 1)

    def last_from(self, name, topic):
        return max((seq for (t, seq), e in list(self.seen.items()) if t == topic and name in e[2]), default=0)


# Two chains over one log_return, for placed engines: wherever ret is not owned, it is an upstream
# copy.
TWO_CHAINS = nodes_toml(("ret", "log_return", "feed.scan"), ("fast", "ema", "ret", "span = 5"),
                        ("slow", "ema", "ret", "span = 30"), ("z", "zscore", "ret", "window = 20"),
                        ("z5", "zscore", "ret", "window = 5"), ("zf", "zscore", "fast", "window = 10"))
TWO_CHAINS_NAMES = ["ret", "fast", "slow", "z", "z5", "zf"]
TWO_CHAINS_INPUTS = {"ret": [], "fast": ["ret"], "slow": ["ret"], "z": ["ret"], "z5": ["ret"], "zf": ["fast"]}


def two_chains_computed(own):
    """What a placed process publishing OWN (node names of TWO_CHAINS) computes: those and every
    node upstream of them (the stream left out, as admin `placement.computed` does)."""
    out, todo = set(), list(own)
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo += TWO_CHAINS_INPUTS[n]
    return out


def stop_cleanly(procs, logs, names, stop_receiving):
    """SIGTERM to each process of NAMES (PROCS, LOGS by name), each must exit 0; then, once the
    last messages in flight reached it, the subscriber stops (STOP_RECEIVING)."""
    import signal
    import time
    for n in names:
        procs[n].send_signal(signal.SIGTERM)
    for n in names:
        check(procs[n].wait(timeout=60) == 0, f"{n} did not stop cleanly: {open(logs[n]).read()[-3000:]}")
    time.sleep(0.3)
    stop_receiving()


def check_dir_parity(wd, data, who, nodes):
    """The outputs data dir DATA (process WHO's) stored of each of NODES against one process
    replaying its journal: the same bytes, and some of each."""
    single = os.path.join(wd, f"single-{who}")
    r = run(["replay", data, "--out", single])
    check(r.returncode == 0, f"replay: {r.stderr}")
    p = run(["parity", single, data])
    rows = parity_rows(p.stdout)
    for node in nodes:
        x, y, eq = rows.get(node, (0, 0, False))
        check(eq and x == y and x > 0, f"{node} on {who} differs from the single process:\n{p.stdout}")


def check_received(outputs, data, wd, sent, names, moved=()):
    """Replays data dir DATA (the last process's) into WD/single and checks it against what a
    subscriber of every endpoint saw (OUTPUTS, an OutputLog): every one of the SENT scans in the
    journal, no seq with two different payloads, and each of NAMES from its first seq received to
    the last one the single process has, without a gap (MOVED: the nodes that moved, for the
    message). Returns the single process's dir."""
    single = os.path.join(wd, "single")
    r = run(["replay", data, "--out", single])
    check(r.returncode == 0, f"replay: {r.stderr}")
    want = parity_rows(run(["parity", single, single]).stdout)
    check(want["feed.scan"][0] == sent, f"{sent} scans sent, {want['feed.scan'][0]} in the journal")
    check(not outputs.clashes, f"a seq came with different bytes: {outputs.clashes[:5]}")
    for node in names:
        got = set(outputs.seqs(node))
        check(got, f"nothing received of {node}")
        last = want[node][0]
        missing = sorted(set(range(min(got), last + 1)) - got)
        check(max(got) == last and not missing,
              f"{node} ({'moved' if node in moved else 'stayed'}): received seqs {min(got)}..{max(got)} of "
              f"{last}, missing {missing[:10]}{'...' if len(missing) > 10 else ''}")
    return single


def feed_until_checkpointed(scans, data, names, timeout=60):
    """Sends SCANS (a ScanBursts) in bursts of 25 until each process of NAMES has put a periodic
    checkpoint in the cluster (once its member record says it published what the checkpoint made;
    the first one, of a share new to its dir, comes at its first record), then 5 bursts more: a
    heir brings it forward over a stretch of journal, and backfills the outputs before it."""
    import time
    by = time.monotonic() + timeout
    while any(cluster_state(data[n]).get("checkpoint", {}).get("uploads", 0) < 2 for n in names):
        check(time.monotonic() < by, f"no checkpoint in the cluster: {[cluster_state(data[n]) for n in names]}")
        scans.burst(25)
    for _ in range(5):
        scans.burst(25)


def kill_and_feed_until(procs, names, scans, done, what, log, timeout=40):
    """kill -9 the processes NAMES of PROCS, then sends SCANS (a ScanBursts) in bursts of 5 until
    DONE() holds: the feed goes on while the others react. Fails after TIMEOUT s, saying that
    WHAT (a text, or a function making one then) did not happen, with the tail of LOG. Returns the
    seconds from the kill."""
    import signal
    import time
    for n in names:
        procs[n].send_signal(signal.SIGKILL)
    for n in names:
        procs[n].wait(timeout=10)
    killed = time.monotonic()
    while not done():
        check(time.monotonic() - killed < timeout,
              f"{what() if callable(what) else what}\n{open(log).read()[-3000:]}")
        scans.burst(5)
    return time.monotonic() - killed


def feed_backfill_and_stop(scans, data, procs, log, who, stop_receiving, bursts=6):
    """Sends BURSTS bursts of 25 scans more (SCANS, a ScanBursts), waits until WHO (its data dir
    in DATA, its process in PROCS, its log LOG) has ingested every scan sent and stored what its
    backfill owes, stops it cleanly and then the subscriber (STOP_RECEIVING)."""
    import signal
    import time
    for _ in range(bursts):
        scans.burst(25)
    wait_for(lambda: scans_ingested(data[who]) == scans.sent, timeout=30, what=f"{who} ingesting all {scans.sent} scans")
    wait_for(lambda: cluster_state(data[who]).get("backfill", {"done": True}).get("done"), timeout=60,
             what=f"{who} storing the outputs its backfill owes: {cluster_state(data[who]).get('backfill')}")
    procs[who].send_signal(signal.SIGTERM)
    check(procs[who].wait(timeout=60) == 0, f"{who} did not stop cleanly: {open(log).read()[-3000:]}")
    time.sleep(0.3)  # the last messages in flight to the subscriber
    stop_receiving()


def check_stored(outputs, data, wd, sent, names, moved, who):
    """check_received, then the stored outputs of WHO (its data dir DATA) against the single
    process's: the same bytes, and every node of NAMES there."""
    single = check_received(outputs, data, wd, sent, names, moved)
    rows = check_parity(single, data, f"{who} differs from the single process")
    check(set(names + ["feed.scan"]) <= set(rows), f"{who} lacks a node: {sorted(rows)}")


def placed_two_chains(names, engine_id, ttl_s, assets=8, cluster_lines="", on_message=None, envs=None,
                      nodes=TWO_CHAINS):
    """Processes NAMES of engine ENGINE_ID placed on all of them (heartbeat_ttl TTL_S, more
    [cluster] CLUSTER_LINES), running NODES (TWO_CHAINS) on a ZeroMQ feed of scans of ASSETS assets, the
    first name the active process, all started and placed. Every endpoint's outputs go to
    ON_MESSAGE(name, frames), by default an OutputLog; ENVS: start_placed's. Returns a
    namespace: wd, cluster, feed, cfgs, ports, data, logs (dicts by name), outputs (the
    OutputLog, or None), stop_receiving, procs, instance, owned (start_placed's), subscribed and
    scans (a ScanBursts)."""
    from harness import bound_feed, workdir
    import zmq
    wd = workdir()
    cluster = local_cluster(wd)
    ctx = zmq.Context()
    feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
    cfgs, ports, data, logs = placed_engines(wd, cluster, feed_ep, names, nodes, engine_id, ttl_s)
    for n in cfgs:
        open(cfgs[n], "a").write(cluster_lines)
    outputs = None if on_message else OutputLog()
    stop_receiving = receive_from_all(ctx, ports, on_message or outputs)
    procs, _, instance, owned = start_placed(cfgs, data, logs, names[0], subscribed, envs)
    return SimpleNamespace(wd=wd, cluster=cluster, feed=feed, cfgs=cfgs, ports=ports, data=data, logs=logs,
                           outputs=outputs, stop_receiving=stop_receiving, procs=procs, instance=instance,
                           owned=owned, subscribed=subscribed,
                           scans=ScanBursts(feed, [f"A{i}" for i in range(assets)]))
