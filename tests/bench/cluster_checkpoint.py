"""Checkpoints in the cluster on this machine (scripts/bench, docs/cluster.md): scenarios/blue
(48 assets with order books, a scan every 2 ms) runs with [cluster] on a local 3-server
JetStream cluster for SECONDS, putting its checkpoints into the cluster, and is killed with
kill -9. Its config is then started on an empty data dir twice, each time on its own copy of the
servers' files as the kill left them (a started engine journals its sources' records as it
catches up, so the second start would otherwise take a longer journal than the first): with
`checkpoints = false` (the new host computes the whole journal) and with checkpoints (it restores
the cluster's latest).

Prints, as `name value` lines:
  cluster_checkpoint_bytes          the last checkpoint the engine put in the cluster
  cluster_checkpoint_write_ms       how long writing it took
  cluster_takeover_records          journal records the new host took from the stream
  cluster_takeover_journal_s        of the start below, taking them from the stream
  cluster_takeover_full_s           an empty dir's start to live, computing the whole journal
  cluster_takeover_checkpoint_s     the same, from the cluster's checkpoint
  cluster_takeover_speedup          full / checkpoint

Usage: cluster_checkpoint.py SHOAL_BIN [SECONDS]"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_cluster import admin as admin_of, blue_cluster_config, cluster_down, cluster_up

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20
TTL_S = 1  # the killed engine's lease is gone after this; neither start below waits for it


def admin(data, cmd):
    return admin_of(SHOAL, data, cmd)


def blue_config(path, servers, checkpoints):
    return blue_cluster_config(path, f'{servers}\nengine_id = "bench-ckpt"\nheartbeat_ttl = "{TTL_S}s"\n'
                                     f'checkpoints = {"true" if checkpoints else "false"}\n')


def take_over(cfg, data):
    """Starts CFG on the empty dir DATA: seconds to live, and its log."""
    t0 = time.monotonic()
    eng = subprocess.Popen([SHOAL, "run", cfg, "--data", data], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    took = None
    while time.monotonic() - t0 < 300:
        if admin(data, "status").get("state") == "live":
            took = time.monotonic() - t0
            break
        time.sleep(0.01)
    eng.send_signal(signal.SIGTERM)
    _, log = eng.communicate(timeout=120)
    return took, log


work = tempfile.mkdtemp(prefix="shoal-checkpoint-bench-")
nats = os.path.join(work, "nats")
nats_copy = os.path.join(work, "nats-copy")
try:
    servers = cluster_up(nats)
    with_cp = blue_config(os.path.join(work, "blue.toml"), servers, True)
    without = os.path.join(work, "blue-full.toml")
    lost = os.path.join(work, "lost")
    eng = subprocess.Popen([SHOAL, "run", with_cp, "--data", lost, "--checkpoint-every", "300"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(SECONDS)
    cp = admin(lost, "cluster").get("checkpoint", {})
    eng.send_signal(signal.SIGKILL)
    eng.wait()
    # The killed engine's lease expires first: a start before that waits for it, which is not
    # what is measured here (both starts run on the servers' files as they are then).
    time.sleep(2.5 * TTL_S)
    print(f"cluster_checkpoint_bytes {cp.get('bytes', 0)}  ({cp.get('uploads', 0)} written in {SECONDS:.0f} s)")
    print(f"cluster_checkpoint_write_ms {cp.get('last_ms', 0)}")

    if not cluster_down(nats):
        sys.exit("cluster_checkpoint.py: a nats-server still runs 30 s after its stop: its files cannot be copied")
    shutil.copytree(nats, nats_copy)

    def took_records(log):
        m = re.search(r"took records 1\.\.(\d+) of engine bench-ckpt from stream \S+ in (\d+) ms", log)
        return (int(m.group(1)), int(m.group(2))) if m else (None, None)

    # The servers come back on the first free ports; the configs are written again for them.
    servers = cluster_up(nats)
    full, log = take_over(blue_config(without, servers, False), os.path.join(work, "full"))
    cluster_down(nats)
    servers = cluster_up(nats_copy)
    fast, log2 = take_over(blue_config(with_cp, servers, True), os.path.join(work, "fast"))
    (n_full, ms_full), (n_fast, ms) = took_records(log), took_records(log2)
    if full is None or fast is None or n_full is None or n_fast is None or \
            "restored engine bench-ckpt's checkpoint" not in log2:
        sys.exit(f"cluster_checkpoint.py: a takeover did not go live as expected:\n{log[-2000:]}\n{log2[-2000:]}")
    if n_full != n_fast:
        sys.exit(f"cluster_checkpoint.py: the two starts took unequal journals ({n_full} and {n_fast} records)")
    print(f"cluster_takeover_records {n_fast}")
    print(f"cluster_takeover_journal_s {ms / 1e3:.2f}  (taking the journal from the stream; "
          f"{ms_full / 1e3:.2f} in the full start)")
    print(f"cluster_takeover_full_s {full:.2f}  (checkpoints = false: the whole journal computed)")
    print(f"cluster_takeover_checkpoint_s {fast:.2f}  (from the cluster's checkpoint)")
    print(f"cluster_takeover_speedup {full / fast:.2f}")
finally:
    cluster_down(nats)
    cluster_down(nats_copy)
    shutil.rmtree(work, ignore_errors=True)
