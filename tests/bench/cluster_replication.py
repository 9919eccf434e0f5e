"""Cluster mode's journal replication on this machine (scripts/bench, docs/cluster.md): a local
3-server JetStream cluster (R3, file storage) and an engine that journals a fabricated feed
(48 assets with order books, a scan every 1 ms).

Prints, as `name value` lines:
  cluster_backlog_records       journal records a non-cluster run left in the data dir
  cluster_backlog_records_per_s how fast an engine started on that dir with [cluster] gets them
                                all into the stream (batches of 512, each acknowledged by R3)
  cluster_backlog_mb_per_s      the same in journal bytes
  cluster_live_lag_p50/p99      replication lag (committed - replicated records) sampled every
                                20 ms while the engine journals a paced feed live (a scan every 4 ms)
  cluster_live_records_per_s    that feed's journal rate

Usage: cluster_replication.py SHOAL_BIN [SECONDS]"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench_cluster import admin as admin_of, cluster_down, cluster_up, free_port, percentile

SHOAL = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3


def admin(data, cmd):
    return admin_of(SHOAL, data, cmd)


def config(path, servers, pace, name="bench"):
    text = f"""
[engine]
name = "{name}"
publish = "tcp://127.0.0.1:{free_port()}"
{"[cluster]" if servers else ""}
{servers}
[[source]]
name = "market"
kind = "fabricator"
seed = 42
assets = 48
{f'pace = "{pace}"' if pace else ""}

[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}
"""
    open(path, "w").write(text)
    return path


work = tempfile.mkdtemp(prefix="shoal-cluster-bench-")
nats = os.path.join(work, "nats")
try:
    servers = cluster_up(nats)

    # A backlog: the feed journaled without the cluster, then the same engine with it.
    data = os.path.join(work, "backlog")
    subprocess.run([SHOAL, "run", config(os.path.join(work, "plain.toml"), "", "1ms"), "--data", data,
                    "--for", f"{SECONDS}s"], capture_output=True, check=True, timeout=120)
    backlog = sum(1 for _ in subprocess.run([SHOAL, "export", data, "--journal"], capture_output=True,
                                            text=True, check=True).stdout.splitlines())
    journal_bytes = os.path.getsize(os.path.join(data, "data.mdb"))
    eng = subprocess.Popen([SHOAL, "run", config(os.path.join(work, "cluster.toml"), servers, "1s"),
                            "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        s = admin(data, "cluster")
        if s and t0 is None:
            t0 = time.monotonic() - 0.01
        if s.get("replicated", 0) >= backlog:
            break
        time.sleep(0.01)
    seconds = time.monotonic() - t0
    eng.terminate()
    eng.wait(timeout=60)
    print(f"cluster_backlog_records {backlog}")
    print(f"cluster_backlog_records_per_s {backlog / seconds:.0f}")
    print(f"cluster_backlog_mb_per_s {journal_bytes / seconds / 1e6:.1f}  (upper bound: data.mdb holds outputs too)")

    # Live: a paced feed, the lag sampled.
    live = os.path.join(work, "live")
    eng = subprocess.Popen([SHOAL, "run", config(os.path.join(work, "live.toml"), servers, "4ms", "live"),
                            "--data", live], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lags, first, last = [], None, None
    end = time.monotonic() + SECONDS + 1
    while time.monotonic() < end:
        s = admin(live, "cluster")
        if s:
            lags.append(s["committed"] - min(s["committed"], s["replicated"]))
            first = first or (time.monotonic(), s["committed"])
            last = (time.monotonic(), s["committed"])
        time.sleep(0.02)
    eng.terminate()
    eng.wait(timeout=60)
    print(f"cluster_live_records_per_s {(last[1] - first[1]) / (last[0] - first[0]):.0f}  (48 assets with books, a scan every 4 ms)")
    rate = (last[1] - first[1]) / (last[0] - first[0])
    print(f"cluster_live_lag_p50 {percentile(lags, 50)} records ({percentile(lags, 50) / rate * 1e3:.1f} ms)")
    print(f"cluster_live_lag_p99 {percentile(lags, 99)} records ({percentile(lags, 99) / rate * 1e3:.1f} ms)")
finally:
    cluster_down(nats)
    shutil.rmtree(work, ignore_errors=True)
