"""Hostile-inputs issue, items 2 and 6, and the durability issue's exact subscriptions (point 7),
over a real ZeroMQ feed:
- a rejected frame without `ts` on a `time = "auto"` stream does not make the stream
  ingest-time: later valid events with payload times behind the wall clock are all accepted,
  and no watermark ever comes from the wall clock;
- a schema-valid scan from the year 2116 is rejected (max_future) and does not close anything:
  the valid scans after it still count;
- a frame for topic `scanx` (which ZeroMQ's prefix subscription to `scan` delivers) is ignored
  and counted, never journaled as a rejection;
- a 100 KB junk frame is journaled with its first 1024 bytes, its size and its SHA-256; a flood
  of junk is counted in full but journaled at most 100 records per second;
- scan_numbers that jump (scans the feed lost) are counted as the stream's gaps, and said."""
import hashlib
import json
import os
import signal
import subprocess
import time

import msgpack
import zmq

from harness import bound_feed, check, feed_config, run, start, wait_for, workdir

START, SECOND = 1767225600 * 10**9, 10**9
wd = workdir()
ctx = zmq.Context()
feed, feed_ep, subscribed = bound_feed(ctx, ["scan"])
# time = "auto" (the default): a bad frame must not turn the stream to ingest time.
cfg, _ = feed_config(wd, "hostile", feed_ep, {"scan": 'schema = "scan"\none_per_bucket = true'},
                     source='interval = "1s"\nidle_timeout = "200ms"', nodes="""
[[node]]
name = "ret"
kind = "log_return"
inputs = { in = "feed.scan" }
""")
data, report = os.path.join(wd, "data"), os.path.join(wd, "report.json")
engine = start(["run", cfg, "--data", data, "--report", report], stderr=subprocess.PIPE, text=True)
subscribed()


def scan(k, ts=None):
    return msgpack.packb({"ts": START + k * SECOND if ts is None else ts, "scan_number": k,
                          "assets": ["A", "B"], "prices": [10.0 + k, 20.0 + k]})


def journal():
    return [json.loads(l) for l in run(["export", data, "--journal"]).stdout.splitlines()]


# 1. A rejected frame without ts comes first, then quiet beyond the idle timeout.
feed.send_multipart([b"scan", msgpack.packb({"scan_number": 0, "assets": ["A"]})])
wait_for(lambda: any("rejected" in r for r in journal()), what="the rejection")
time.sleep(0.5)  # longer than idle_timeout: the old engine journaled a wall-clock watermark here
# 2. Valid scans with payload times ten months behind the wall clock, some idle gaps between.
for k in range(1, 31):
    feed.send_multipart([b"scan", scan(k)])
    if k % 10 == 0:
        time.sleep(0.3)
# 3. One far-future scan, then more valid ones.
feed.send_multipart([b"scan", scan(31, ts=(1 << 62) - 1)])
for k in range(32, 36):
    feed.send_multipart([b"scan", scan(k)])
# 4. A topic that only shares the prefix, a large junk frame, then a flood of junk.
for _ in range(50):
    feed.send_multipart([b"scanx", scan(99)])
junk = os.urandom(100_000)
feed.send_multipart([b"scan", junk])
for i in range(500):
    feed.send_multipart([b"scan", b"\xc1 junk %d" % i])
feed.send_multipart([b"scan", scan(36)])
# 5. Scans 37 to 39 never arrive (a feed that dropped them): counted as gaps, and said. Scan 41
# arrives but is rejected (a price that is not a number): not a gap. Then the feed numbers anew
# from 2**62: a jump that large is not counted as lost scans.
feed.send_multipart([b"scan", scan(40)])
feed.send_multipart([b"scan", msgpack.packb({"ts": START + 41 * SECOND, "scan_number": 41,
                                             "assets": ["A", "B"], "prices": ["x", 1.0]})])
feed.send_multipart([b"scan", scan(42)])
for j, k in enumerate([2**62, 2**62 + 1]):
    feed.send_multipart([b"scan", scan(k, ts=START + (43 + j) * SECOND)])
wait_for(lambda: any(r.get("seq") == 39 for r in journal()), what="the last valid scan")
engine.send_signal(signal.SIGINT)
_, err = engine.communicate(timeout=30)
check(engine.returncode == 0, err)

records = journal()
events = [r for r in records if "payload" in r]
check([e["payload"]["scan_number"] for e in events] == list(range(1, 31)) + list(range(32, 37)) + [40, 42, 2**62, 2**62 + 1],
      f"accepted scans: {[e['payload']['scan_number'] for e in events]}")
watermarks = [r for r in records if r.get("watermark")]
# The 0.3 s pauses after scans 10, 20 and 30 are beyond idle_timeout: each leaves one.
check(watermarks, "no idle watermark journaled")
# (The wall clock is months past START; the last scan's idle watermark is START + 45 s - 1.)
check(all(w["ts"] < START + 100 * SECOND for w in watermarks),
      f"a watermark from the wall clock: {[w for w in watermarks if w['ts'] >= START + 100 * SECOND]}")
rep = json.load(open(report))
nodes = {n["names"][0]: n for n in rep["nodes"]}
check(nodes["feed.scan"]["late_dropped"] == 0 and nodes["ret"]["late_dropped"] == 0, str(nodes))
check(nodes["ret"]["outputs"] == len(events) - 1, f"ret outputs {nodes['ret']['outputs']}")
# The far-future scan 31 arrived (rejected, not missing); 37 to 39 did not.
check(nodes["feed.scan"]["gaps"] == 3, f"gaps counted: {nodes['feed.scan']['gaps']}")
check("gap on scan: scan_number 40 after 36 (3 scans never arrived" in err, err)
check(f"scan_number {2**62} after 42: taken as the feed numbering anew" in err, err)
future = [r for r in records if "rejected" in r and "max_future" in r["rejected"]]
check(len(future) == 1, f"the far-future scan: {[r for r in records if 'rejected' in r][:3]}")
check(not any("scanx" in json.dumps(r) for r in records), "scanx frames were journaled")
check(rep["unmatched_topics"] == 50, f"unmatched topics counted: {rep.get('unmatched_topics')}")
big = [r for r in records if r.get("raw_bytes") == 100_000]
check(len(big) == 1 and big[0]["raw_kept"] == 1024 and
      big[0]["raw_sha256"] == hashlib.sha256(junk).hexdigest(), f"large junk frame: {big}")
rejected = [r for r in records if "rejected" in r]
counted = nodes["feed.scan"]["rejected"]
check(counted == 1 + 1 + 1 + 500 + 1, f"rejections counted: {counted}")
check(len(rejected) < counted and len(rejected) <= 2 * 100 + 4,
      f"{len(rejected)} rejections journaled of {counted}: no rate limit")
size = os.path.getsize(os.path.join(data, "data.mdb"))
print(f"ok: {len(events)} scans accepted, {counted} rejections counted, {len(rejected)} "
      f"journaled, data file {size // 1024} KiB")
