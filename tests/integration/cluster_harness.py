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

from harness import RET_Z, SOURCE_DIR, check, engine_config, fabricator_source, run

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


def cluster_engine_config(wd, file_name, engine, cluster_lines, engine_lines=""):
    """Writes WD/FILE_NAME.toml: engine ENGINE (a free publish port, ENGINE_LINES added to
    [engine]) with [cluster] CLUSTER_LINES, fed by a fabricator (seed 9, 10 assets, a scan every
    2 ms) through ret (log_return) and z (zscore). Returns (path, publish port)."""
    return engine_config(wd, engine, fabricator_source(9, 10, "2ms"), RET_Z, engine=engine_lines,
                         tables=f"[cluster]\n{cluster_lines}", file_name=file_name)


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
