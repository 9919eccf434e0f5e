"""A restart's catch-up does not lose what a feed sends meanwhile. An engine fed over ZeroMQ (a
PUB/SUB feed: nothing is sent again) is killed with SIGKILL and no checkpoint, so its restart
reads its whole journal through a graph of many nodes again, for a few seconds. Its source
subscribes before that catch-up, not after it, and journals what arrives meanwhile; the catch-up
follows the journal's end and then lets live input through. Checked:
  - a restart stopped by SIGTERM in its catch-up ends cleanly, keeps every scan its source
    journaled meanwhile and checkpoints where it got to: the next start resumes from there;
  - a restart killed in the middle of its catch-up checkpointed on the way: the next one starts
    from there, not from the journal's start;
  - the feed sees the restarted engine subscribe while it is still catching up, and scans sent
    then are journaled (the log counts them), not dropped by a PUB with no subscriber;
  - every scan sent after that subscription is in the journal, in order, once;
  - the stored outputs across the restart equal a replay of the journal, byte for byte."""
import json
import os
import re
import signal
import subprocess
import time

import zmq

from cluster_harness import ScanBursts, scans_ingested
from harness import SCAN_STREAM, bound_feed, check, feed_config, nodes_toml, parity_rows, run, start, wait_for, workdir

EMAS = 120
BEFORE = 8_000  # scans journaled before the kill: a catch-up of seconds, cut short twice
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"], sndhwm=0)  # the test's own sends are never dropped
nodes = nodes_toml(("ret", "log_return", "feed.scan"),
                   *[(f"e{i}", "ema", "ret", f"span = {i + 2}") for i in range(EMAS)])
cfg, _ = feed_config(wd, "catch", feed_ep, {"scan": SCAN_STREAM}, nodes=nodes)
data = os.path.join(wd, "data")
scans = ScanBursts(feed, [f"A{i}" for i in range(8)])
log1, log2 = os.path.join(wd, "first.log"), os.path.join(wd, "again.log")

def journal_scans(data):
    """The scan_numbers of the scans committed to DATA's journal, in journal order."""
    lines = run(["export", data, "--journal"]).stdout.splitlines()
    return [int(m.group(1)) for m in map(re.compile(r'"scan_number":\s*(\d+)').search, lines) if m]


first = start(["run", cfg, "--data", data, "--checkpoint-every", "0"], stdout=subprocess.DEVNULL,
              stderr=open(log1, "w"))
subscribed()
while scans.sent < BEFORE:
    scans.burst(1000, pause=0)
    wait_for(lambda: scans_ingested(data) == scans.sent, timeout=60, what=f"{scans.sent} scans ingested")
# Every scan committed before the kill (ingested is not yet committed: the writer may be behind).
wait_for(lambda: len(journal_scans(data)) == scans.sent, timeout=60, what=f"all {scans.sent} scans committed")
first.send_signal(signal.SIGKILL)  # no checkpoint: the restart catches up the whole journal
first.wait(timeout=10)
subscribed.drain()

# Stopped (SIGTERM) in its catch-up: it ends cleanly (exit 0, not killed by the signal as a
# start was before), checkpoints where the catch-up got to, and keeps what its source journaled
# meanwhile; the next start goes on from that checkpoint.
log_t = os.path.join(wd, "stopped.log")
stopped = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=open(log_t, "w"))
subscribed()
scans.burst(100, pause=0.5)  # time for them to arrive; the catch-up takes seconds
check("caught up through" not in open(log_t).read() and stopped.poll() is None,
      f"the catch-up ended before the signal (too short to test): {open(log_t).read()[-2000:]}")
stopped.send_signal(signal.SIGTERM)
check(stopped.wait(timeout=60) == 0, f"a SIGTERM in the catch-up did not stop it cleanly: {open(log_t).read()[-3000:]}")
subscribed.drain()
cut = re.search(r"stopping in the catch-up, after journal record (\d+) of \d+ \(checkpointed there\)",
                open(log_t).read())
check(cut and int(cut.group(1)) > 0, f"no checkpoint where the catch-up was cut short: {open(log_t).read()[-3000:]}")
kept = journal_scans(data)
check(kept == list(range(scans.sent)),
      f"after a SIGTERM in the catch-up the journal holds {len(kept)} of {scans.sent} scans")

# Killed again while it catches up: the catch-up checkpoints as it goes (every 100 buckets, the
# default), so the next start goes on from there rather than from the journal's start.
log_k = os.path.join(wd, "killed.log")
killed = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=open(log_k, "w"))
subscribed()
wait_for(lambda: "last checkpoint at journal position" in open(log_k).read(), timeout=30, what="the resume line")
check(re.search(rf"last checkpoint at journal position {cut.group(1)}\b", open(log_k).read()),
      f"the start after the SIGTERM did not resume from record {cut.group(1)}: {open(log_k).read()[:2000]}")
# Once it says it checkpointed on the way (the first time at once, then once a second).
wait_for(lambda: "checkpointed" in open(log_k).read() or killed.poll() is not None, timeout=60,
         what="a checkpoint during the catch-up")
killed.send_signal(signal.SIGKILL)
killed.wait(timeout=10)
subscribed.drain()
check("caught up through" not in open(log_k).read(), f"the catch-up ended before the kill: {open(log_k).read()[-2000:]}")

again = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=open(log2, "w"))
subscribed()
sent_at_subscription = scans.sent
# The feed goes on at its own pace; the engine catches up meanwhile. Its admin socket answers
# meanwhile: `status` and `metrics` say how far it got, other commands wait until it is live.
sock = os.path.join(data, "shoal.sock")


def admin(*args):
    r = run(["admin", "--socket", sock, *args], timeout=10)
    return r.returncode, r.stdout + r.stderr


during, status_seen = 0, None
deadline = time.monotonic() + 60
while "caught up through journal record" not in open(log2).read():
    check(again.poll() is None, f"the restarted engine exited: {open(log2).read()[-3000:]}")
    check(time.monotonic() < deadline, f"no end of the catch-up: {open(log2).read()[-3000:]}")
    scans.burst(20, pause=0.02)
    during += 20
    if status_seen is None and os.path.exists(sock):
        rc, out = admin("status", "--json")
        if rc == 0 and '"catching up"' in out and "caught up through" not in open(log2).read():
            status_seen = json.loads(out)
            rc_nodes, refused = admin("nodes")
            rc_metrics, metrics = admin("metrics")
            if "caught up through" not in open(log2).read():  # else it went live meanwhile
                check(rc_nodes != 0 and "the engine is starting (catching up through journal record" in refused,
                      f"a command other than status during the catch-up: {rc_nodes} {refused}")
                check(rc_metrics == 0 and "shoal_engine_live 0" in metrics
                      and "shoal_catch_up_journal_record" in metrics, f"metrics during the catch-up: {metrics[:2000]}")
check(status_seen and status_seen["state"] == "starting" and 0 < status_seen["journal"]["through"]
      <= status_seen["journal"]["last"], f"admin status during the catch-up: {status_seen}")
arrived = re.search(r"caught up through journal record (\d+): (\d+) of them arrived from its sources",
                    open(log2).read())
resumed = re.search(r"last checkpoint at journal position (\d+)", open(log2).read())
check(resumed and int(resumed.group(1)) > 0, f"the killed catch-up left no checkpoint: {open(log2).read()[:2000]}")
check(arrived and int(arrived.group(2)) > 0,
      f"nothing arrived while it caught up ({during} scans sent meanwhile): {open(log2).read()[-3000:]}")
for _ in range(5):
    scans.burst(50)
wait_for(lambda: scans_ingested(data) == scans.sent, timeout=60,
         what=f"all {scans.sent} scans ingested ({scans_ingested(data)} so far)")
rc, out = admin("status", "--json")
check(rc == 0 and json.loads(out)["state"] == "live", f"status once live: {out}")
again.send_signal(signal.SIGTERM)
check(again.wait(timeout=60) == 0, f"the restarted engine did not stop cleanly: {open(log2).read()[-3000:]}")

# Every scan, in the order sent, once: the scan_number each carries.
numbers = journal_scans(data)
check(numbers == list(range(scans.sent)),
      f"journal holds {len(numbers)} scans of {scans.sent}; first out of order at "
      f"{next((i for i, n in enumerate(numbers) if n != i), None)}")

replay = os.path.join(wd, "replay")
check(run(["replay", data, "--out", replay]).returncode == 0, "replay")
p = run(["parity", data, replay])
rows = parity_rows(p.stdout)
check(p.returncode == 0 and rows["e0"][0] == rows["e0"][1] > 0, f"stored outputs differ from a replay:\n{p.stdout}")
print(f"ok: {BEFORE} scans caught up after a kill -9 through {EMAS + 1} nodes (killed again mid-way, then "
      f"resumed from journal position {resumed.group(1)}); {during} sent meanwhile, "
      f"{arrived.group(2)} journaled while it caught up; all {scans.sent} in the journal in order; parity holds")
