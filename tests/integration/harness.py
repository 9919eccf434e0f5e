"""Shared helpers for integration tests: find the binary, free ports, temp configs, processes."""
import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

SHOAL = os.environ.get("SHOAL_BIN", os.path.join(os.getcwd(), "build", "shoal"))
SOURCE_DIR = os.environ.get("SHOAL_SOURCE_DIR", os.getcwd())


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_ports(text, ports):
    """TEXT with each address tcp://127.0.0.1:OLD in PORTS (old port → new port) moved to the new
    port, in one pass: replacing one after another would move a port just put in again (a new
    port 55617 begins with the old address of another, 5561)."""
    return re.sub(r"tcp://127\.0\.0\.1:(\d+)\b",
                  lambda m: f"tcp://127.0.0.1:{ports.get(int(m.group(1)), m.group(1))}", text)


def free_http(text):
    """A config's loopback HTTP listeners (console, metrics_http) moved to free ports, so tests
    running one scenario side by side do not collide."""
    return re.sub(r'^(console|metrics_http) = "127\.0\.0\.1:\d+"',
                  lambda m: f'{m.group(1)} = "127.0.0.1:{free_port()}"', text, flags=re.M)


def config_with_port(src_path, port, workdir):
    """Copies a config (and its strategy files) into workdir with its publish port replaced."""
    src_dir = os.path.dirname(os.path.abspath(src_path))
    for name in os.listdir(src_dir):
        if name.endswith(".toml"):
            shutil.copy(os.path.join(src_dir, name), workdir)
    dst = os.path.join(workdir, os.path.basename(src_path))
    text = open(dst).read()
    text, n = re.subn(r'publish = "tcp://127\.0\.0\.1:\d+"', f'publish = "tcp://127.0.0.1:{port}"', text)
    assert n == 1, "config has no publish line to rewrite"
    text = free_http(text)
    open(dst, "w").write(text)
    return dst


def run(args, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run([SHOAL] + args, capture_output=True, text=True, **kw)


_workdirs = []
_failed = False


def _keep_workdirs_of_failures(kind, value, tb):
    global _failed
    _failed = True
    sys.__excepthook__(kind, value, tb)


sys.excepthook = _keep_workdirs_of_failures


@atexit.register
def _remove_workdirs():
    """A passing test leaves nothing behind (a soak's data dirs reach gigabytes); a failing one
    keeps its dirs for a look, and says where they are. SHOAL_KEEP_WORKDIR=1 keeps them always."""
    if _failed or os.environ.get("SHOAL_KEEP_WORKDIR"):
        for d in _workdirs:
            print(f"kept {d}", file=sys.stderr)
        return
    for d in _workdirs:
        shutil.rmtree(d, ignore_errors=True)


def check(cond, message):
    global _failed
    if not cond:
        _failed = True
        print("FAIL:", message)
        sys.exit(1)


def workdir():
    d = tempfile.mkdtemp(prefix="shoal-it-")
    _workdirs.append(d)
    return d


def bound_feed(ctx, topics, timeout=20, sndhwm=None):
    """A feed for a zmq source: an XPUB bound on a free port (SNDHWM: its send high-water mark,
    0 for none — set before the bind, which is when libzmq reads it). Returns (socket, endpoint,
    wait); wait() blocks until an engine's SUB has subscribed to every topic (no slow-joiner
    loss); call it again for an engine started later."""
    import zmq
    sock = ctx.socket(zmq.XPUB)
    sock.setsockopt(zmq.XPUB_VERBOSE, 1)  # every subscription, also an engine's after a restart
    if sndhwm is not None:
        sock.setsockopt(zmq.SNDHWM, sndhwm)
    port = sock.bind_to_random_port("tcp://127.0.0.1")

    def wait():
        import time
        pending = {t.encode() for t in topics}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            if sock.poll(100):
                msg = sock.recv()
                if msg[:1] == b"\x01":
                    pending.discard(msg[1:])
        check(not pending, f"the engine never subscribed to {sorted(pending)}")

    def drain():
        """Forgets subscription messages of engines that are gone (call while none runs)."""
        while sock.poll(50):
            sock.recv()

    wait.drain = drain
    return sock, f"tcp://127.0.0.1:{port}", wait


# A stream of scans, one per bucket, stamped by their own ts.
SCAN_STREAM = 'schema = "scan"\none_per_bucket = true\ntime = "payload"'


def feed_config(wd, name, feed_ep, streams, nodes="", engine="", source=""):
    """Writes WD/NAME.toml: engine NAME publishing on a free port, fed by one zmq source `feed`
    connected to FEED_EP. STREAMS maps each stream's name to the rest of its [[source.stream]]
    table (TOML lines); NODES is TOML text; ENGINE and SOURCE are extra lines for [engine] and
    the [[source]]. Returns (path, publish port)."""
    lines = f'name = "feed"\nkind = "zmq"\nconnect = ["{feed_ep}"]\n{source}'
    for stream, rest in streams.items():
        lines += f'\n\n[[source.stream]]\nname = "{stream}"\n{rest}'
    return engine_config(wd, name, lines, nodes, engine=engine)


def fabricator_source(seed, assets, pace, *extra):
    """The lines of a [[source]] `market` of kind fabricator (1 s buckets); EXTRA: more lines."""
    return "\n".join(['name = "market"', 'kind = "fabricator"', f"seed = {seed}", f"assets = {assets}",
                      *extra, 'interval = "1s"', f'pace = "{pace}"'])


def journal_source(path, pace):
    """The lines of a [[source]] `market` replaying the journal of the data dir PATH."""
    return f'name = "market"\nkind = "journal"\npath = "{path}"\npace = "{pace}"'


def nodes_toml(*nodes):
    """[[node]] tables, one per (name, kind, upstream) or (name, kind, upstream, params), params
    an inline table's contents ("window = 20")."""
    text = ""
    for name, kind, upstream, *params in nodes:
        text += f'\n[[node]]\nname = "{name}"\nkind = "{kind}"\ninputs = {{ in = "{upstream}" }}\n'
        if params:
            text += f"params = {{ {params[0]} }}\n"
    return text


# log_return of the market's scans, and its zscore (window 20, the kind's default).
RET_Z = nodes_toml(("ret", "log_return", "market.scan"), ("z", "zscore", "ret"))


def engine_config(wd, name, source, nodes, engine="", tables="", file_name=None):
    """Writes WD/FILE_NAME.toml (default NAME.toml): engine NAME publishing on a free port
    (ENGINE: more [engine] lines; TABLES: more tables after it), one [[source]] with the lines
    SOURCE, and NODES (TOML text). Returns (path, publish port)."""
    port = free_port()
    parts = [f'[engine]\nname = "{name}"\npublish = "tcp://127.0.0.1:{port}"', engine, tables,
             f"[[source]]\n{source}", nodes]
    text = "\n\n".join(p.strip("\n") for p in parts if p) + "\n"
    path = os.path.join(wd, f"{file_name or name}.toml")
    open(path, "w").write(text)
    return path, port


def node_subscriber():
    """The Node test subscriber's command (tests/clients/node), its packages installed: the
    client package is a copy of clients/node (install-links), made again when it is stale."""
    import fcntl
    import filecmp
    node_dir = os.path.join(SOURCE_DIR, "tests/clients/node")
    installed = os.path.join(node_dir, "node_modules", "shoal-client")
    with open(os.path.join(tempfile.gettempdir(), "shoal-node-client.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # tests run in parallel: one install at a time
        stale = [f for f in ("index.mjs", "index.d.ts", "package.json")
                 if not os.path.exists(os.path.join(installed, f))
                 or not filecmp.cmp(os.path.join(installed, f), os.path.join(SOURCE_DIR, "clients/node", f), False)]
        if stale:
            shutil.rmtree(installed, ignore_errors=True)
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"], cwd=node_dir,
                           check=True, capture_output=True, timeout=300)
    return ["node", os.path.join(node_dir, "subscriber.mjs")]


def wait_for(pred, timeout=20, what="condition"):
    """Polls pred() until it is true or the deadline passes (then fails the test)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    check(pred(), f"timed out waiting for {what}")


def wait_live(sock, timeout=60):
    """Waits until the engine on admin socket SOCK is live: its admin socket answers from the
    first moments of a start, but only `status` and `metrics` until then."""
    import json

    def live():
        if not os.path.exists(sock):
            return False
        r = run(["admin", "--socket", sock, "status", "--json"], timeout=10)
        return r.returncode == 0 and json.loads(r.stdout).get("state") == "live"
    wait_for(live, timeout=timeout, what=f"the engine on {sock} live")


def start(args, **kw):
    """Starts `shoal ARGS` in the background; it is killed when the test exits, pass or fail."""
    import atexit
    proc = subprocess.Popen([SHOAL] + args, **kw)
    atexit.register(lambda: proc.poll() is None and proc.kill())
    return proc


def parity_rows(out):
    """`shoal parity`'s table as {node: (outputs in A, outputs in B, equal)}."""
    rows = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4 and parts[3] in ("yes", "NO"):
            rows[parts[0]] = (int(parts[1]), int(parts[2]), parts[3] == "yes")
    return rows


def check_parity(a, b, what, min_outputs=0):
    """`shoal parity A B` passes: every node has the same outputs in both, more than min_outputs
    each (min_outputs=None: some node has outputs, for graphs where a node may never fire). Two
    sides with nothing stored would be equal too: that is a failure here."""
    p = run(["parity", a, b])
    check(p.returncode == 0, f"{what}:\n{p.stdout}{p.stderr}")
    rows = parity_rows(p.stdout)
    check(rows and any(x > 0 for x, _, _ in rows.values()), f"{what}: no outputs compared:\n{p.stdout}")
    check(all(eq and x == y for x, y, eq in rows.values()), f"{what}:\n{p.stdout}")
    if min_outputs is not None:
        check(all(x > min_outputs for x, _, _ in rows.values()), f"{what}: a node with too few outputs:\n{p.stdout}")
    return rows


def replayed(journal_dir, cfg, out):
    """`shoal replay JOURNAL_DIR --config CFG --out OUT`, checked; returns OUT."""
    r = run(["replay", journal_dir, "--config", cfg, "--out", out])
    check(r.returncode == 0, f"replay --config {cfg}: {r.stderr}")
    return out
