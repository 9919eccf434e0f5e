"""What the cluster benchmarks share: free ports, a local 3-server JetStream cluster
(scripts/cluster) on free ports, scenarios/blue's config with a [cluster] table, admin answers and
percentiles."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(SOURCE, "scripts", "cluster")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports_free(base):
    for p in [base + d + i for d in (0, 100, 200) for i in range(3)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def cluster_up(nats_dir):
    """Starts 3 servers under NATS_DIR on the first free ports from 27000; returns the
    [cluster] `servers = [...]` line."""
    base = next(b for b in range(27000, 60000, 300) if ports_free(b))
    up = subprocess.run([CLUSTER, "up", "--servers", "3", "--dir", nats_dir, "--port", str(base)],
                        capture_output=True, text=True, timeout=60, check=True)
    return up.stdout.strip()


def cluster_down(nats_dir):
    """Stops the servers under NATS_DIR and waits until they have exited, so their files can be
    copied whole: False if one still runs after 30 s."""
    pids = []
    for n in sorted(os.listdir(nats_dir)) if os.path.isdir(nats_dir) else []:
        try:
            pids.append(int(open(os.path.join(nats_dir, n, "pid")).read()))
        except (OSError, ValueError):
            pass
    subprocess.run([CLUSTER, "down", "--dir", nats_dir], capture_output=True)
    deadline = time.monotonic() + 30
    while any(running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def running(pid):
    try:
        return open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def blue_cluster_config(path, cluster, pace="2ms"):
    """Writes scenarios/blue's config to PATH with a scan every PACE (2 ms: 24 k journal records/s,
    more than a local 3-server cluster takes on the 2-core dev VM), its own publish port, no
    console, metrics or snapshot listeners, no data dir of its own, and CLUSTER (the lines of its
    [cluster] table)."""
    text = open(os.path.join(SOURCE, "scenarios", "blue", "graph.toml")).read()
    text = re.sub(r'^(snapshot|console|admin_token|metrics_http|data) = .*\n', "", text, flags=re.M)
    text = re.sub(r'^publish = .*$', f'publish = "tcp://127.0.0.1:{free_port()}"', text, count=1, flags=re.M)
    text = re.sub(r'^pace = .*$', f'pace = "{pace}"', text, count=1, flags=re.M)
    text = text.replace("\n[[source]]", f"\n[cluster]\n{cluster}\n[[source]]", 1)
    open(path, "w").write(text)
    return path


def admin(shoal, data, cmd):
    r = subprocess.run([shoal, "admin", "--socket", os.path.join(data, "shoal.sock"), cmd, "--json"],
                       capture_output=True, text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def wait(script, what, cond, timeout=120, step=0.01):
    """Polls COND every STEP seconds until it holds; exits naming SCRIPT and WHAT after TIMEOUT
    seconds."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            sys.exit(f"{script}: timed out waiting for {what}")
        time.sleep(step)


def placed_instance(shoal, data, script):
    """The instance name of the process on data dir DATA, once it answers with its placement (a
    process restarting in place, or slow under load, answers admin with nothing for a moment)."""
    got = {}
    wait(script, f"{data} answering with its placement",
         lambda: got.update(admin(shoal, data, "cluster").get("placement", {})) or "instance" in got)
    return got["instance"]


def stop_all(procs, kill=False):
    """Stops every process of PROCS (name → Popen) still running, with SIGTERM (KILL: kill -9), and
    waits for each."""
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    for p in procs.values():
        p.wait(timeout=120)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else 0
