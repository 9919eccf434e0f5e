"""Cluster mode under a bursty feed (issue 14): a real ZeroMQ feed sends scans in bursts — 3,000
as fast as it can, then nothing for a second, three times — to engine f1 on a 3-server
JetStream cluster, with a standby following f1's journal from the stream. The replication lag
may grow during a burst (printed: a loaded machine may ingest it slower than the cluster
replicates) and goes back to 0 in the pauses; afterwards:
  - f1 journaled every scan sent, once (nothing lost to the burst);
  - the cluster's copy of the journal is f1's, record for record;
  - the standby followed all of it and stored the same outputs as f1 (parity); caught up, its
    follow lag (admin `cluster`, metrics) is 0, and f1's members list gives both at f1's journal
    end, less than a second behind;
  - replaying the cluster's journal gives the same outputs again."""
import os
import re
import subprocess
import time

import msgpack
import zmq

from cluster_harness import cluster_state, local_cluster
from harness import (SCAN_STREAM, bound_feed, check, check_parity, engine_config, nodes_toml, run, start, wait_for,
                     workdir)

BURSTS, PER_BURST, ASSETS = 3, 3000, [f"A{i:02d}" for i in range(12)]
wd = workdir()
cluster = local_cluster(wd)
ctx = zmq.Context()
# The feed queues a burst rather than drop what f1 has not read yet (ZeroMQ's PUB drops what
# exceeds its high-water mark: that loss would be the feed's, not the cluster's).
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"], sndhwm=0)
source = f'name = "feed"\nkind = "zmq"\nconnect = ["{feed_ep}"]\n\n[[source.stream]]\nname = "scan"\n{SCAN_STREAM}'
nodes = nodes_toml(("ret", "log_return", "feed.scan"), ("z", "zscore", "ret"))
cluster_lines = f'[cluster]\n{cluster.servers_line}\nheartbeat_ttl = "2s"'
cfg_a, _ = engine_config(wd, "f1", source, nodes, tables=cluster_lines, file_name="a")
cfg_b, _ = engine_config(wd, "f1", source, nodes, tables=cluster_lines, file_name="b")
data_a, data_b = os.path.join(wd, "a"), os.path.join(wd, "b")
active = start(["run", cfg_a, "--data", data_a], stdout=subprocess.DEVNULL, stderr=open(os.path.join(wd, "a.log"), "w"))
subscribed()
wait_for(lambda: cluster_state(data_a).get("role") == "active", timeout=30, what="f1 active")
standby = start(["run", cfg_b, "--data", data_b, "--standby"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
wait_for(lambda: cluster_state(data_b).get("role") == "standby", timeout=30, what="the standby")

def scans_in():
    """The scans f1's stream node has taken in (each journaled before it got there)."""
    m = run(["admin", "--socket", os.path.join(data_a, "shoal.sock"), "metrics"]).stdout
    found = re.search(r'^shoal_events_in_total\{node="feed.scan"\} (\d+)', m, re.M)
    return int(found.group(1)) if found else 0


t0 = 1_767_225_600 * 10**9
sent, peak_lag, peak_follow = 0, 0, 0
for burst in range(BURSTS):
    for _ in range(PER_BURST):
        prices = [100.0 + i + 0.01 * ((sent * (i + 7)) % 97) for i in range(len(ASSETS))]
        feed.send_multipart([b"scan", msgpack.packb({"ts": t0 + sent * 10**9, "scan_number": sent,
                                                     "assets": ASSETS, "prices": prices})])
        sent += 1
    # The pause: f1 takes in the whole burst (each scan is journaled before a node sees it)...
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and scans_in() < sent:
        peak_lag = max(peak_lag, cluster_state(data_a).get("lag", 0))
        peak_follow = max(peak_follow, cluster_state(data_b).get("follow_lag", 0))
        time.sleep(0.05)
    if scans_in() < sent:
        print(run(["admin", "--socket", os.path.join(data_a, "shoal.sock"), "metrics"]).stdout)
        print(open(os.path.join(wd, "a.log")).read()[-3000:])
    check(scans_in() >= sent, f"after burst {burst + 1}: f1 took in {scans_in()} of {sent} scans")
    # ... and the cluster holds all of it: two reads in a row find nothing committed that is not
    # replicated, and nothing committed in between.
    last = [None]

    def settled():
        st = cluster_state(data_a)
        now = (st.get("committed"), st.get("lag", 1))
        done = now == last[0] and now[1] == 0
        last[0] = now
        return done

    wait_for(settled, timeout=30, what=f"burst {burst + 1} in the cluster")
    time.sleep(1.0)
print(f"{sent} scans in {BURSTS} bursts; the largest replication lag seen: {peak_lag} records, "
      f"the standby's largest follow lag: {peak_follow} records")
wait_for(lambda: cluster_state(data_b).get("followed", 0) >= cluster_state(data_a).get("replicated", 1),
         timeout=60, what="the standby following the whole journal")
# Caught up: the standby's lag, as it and f1's members list say (the quiet feed's idle
# watermarks may still add a record now and then).
committed = cluster_state(data_a)["committed"]
wait_for(lambda: cluster_state(data_b).get("follow_lag") == 0 and cluster_state(data_b).get("follow_lag_ms") == 0,
         timeout=10, what="the standby's follow lag at 0")
standby_metrics = run(["admin", "--socket", os.path.join(data_b, "shoal.sock"), "metrics"]).stdout
# An idle watermark may have come since: caught up is a lag of a few records, well under a second.
follow_records = re.search(r"^shoal_cluster_follow_lag_records (\d+)$", standby_metrics, re.M)
follow_seconds = re.search(r"^shoal_cluster_follow_lag_seconds ([0-9.e+-]+)$", standby_metrics, re.M)
check(follow_records is not None and int(follow_records.group(1)) <= 2,
      f"the standby's metrics give no follow lag of at most 2 records: {follow_records}")
check(follow_seconds is not None and float(follow_seconds.group(1)) < 1,
      f"the standby's metrics give no follow lag under a second: {follow_seconds}")
listed = {}


def members_caught_up():
    """f1's members list gives both processes at least at `committed`, neither behind."""
    st = cluster_state(data_a)
    listed.update((m["role"], (m.get("journal"), m.get("lag_ms"))) for m in st.get("members", []))
    listed["f1 committed"] = st.get("committed")
    # An idle watermark in flight lags for a moment: well under a second.
    return all(role in listed and committed <= listed[role][0] <= st["committed"] and listed[role][1] < 1000
               for role in ("active", "standby"))


deadline = time.monotonic() + 30
while time.monotonic() < deadline and not members_caught_up():
    time.sleep(0.1)
check(members_caught_up(), f"f1's members list does not give f1 and its standby at journal record {committed} or "
      f"later, less than a second behind: {listed}")

# Stopped cleanly: each keeps what it computed.
for p in (standby, active):
    p.terminate()
    check(p.wait(timeout=60) == 0, "an engine did not stop cleanly")


def journal_lines(data):
    r = run(["export", data, "--journal"])
    check(r.returncode == 0, r.stderr)
    return r.stdout.splitlines()


a_journal = journal_lines(data_a)
events = [line for line in a_journal if '"payload"' in line]
check(len(events) == sent, f"f1 journaled {len(events)} of the {sent} scans sent")
pulled, replay_out = os.path.join(wd, "pulled"), os.path.join(wd, "replayed")
r = run(["replay", "--cluster", cluster.urls, "--stream", "SHOAL", "--engine-id", "f1", pulled, "--out", replay_out],
        timeout=120)
check(r.returncode == 0, f"replay --cluster: {r.stderr}")
check(journal_lines(pulled) == a_journal, "the cluster's journal is not f1's, record for record")
check_parity(data_a, data_b, "f1 and its standby after the bursts", min_outputs=sent - 100)
check_parity(data_a, replay_out, "f1 and a replay of the cluster's journal", min_outputs=sent - 100)
print("ok")
