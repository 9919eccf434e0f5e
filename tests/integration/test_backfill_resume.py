"""A backfill stopped midway goes on from where it stopped (issue 14). A placed process that was
handed nodes makes their outputs before the dead process's checkpoint from its journal, on a thread
of low priority, once live; what is left is in the dir's meta (`handed_backfill`). Here the meta is
written into a recorded dir as a hand-over writes it (the cluster tests cover the hand-over), so
one process without NATS runs the same code:
  - a live run records a journal of about 15,000 scans and stores every output; the test then
    deletes node z's outputs and writes the meta: z lacks its outputs before the journal's end;
  - the next start makes them on its backfill thread, slowed by the failpoint backfill_slow; it is
    stopped (SIGTERM) after its first batch: it says after which journal record it stopped;
  - the start after that goes on from the record after it (its log says so), not from the
    journal's start, and finishes;
  - the dir then holds every node's outputs byte for byte as a replay of its journal makes them;
  - the same stop's meta again, with a state that cannot be restored: the next start says so,
    makes z's outputs from the journal's start instead, and the dir equals the replay again;
  - a backfill killed (SIGKILL) midway: the next start goes on from the last position it saved,
    and the dir equals the replay again."""
import json
import os
import re
import signal
import subprocess

import lmdb
import msgpack

from harness import check, check_parity, engine_config, fabricator_source, replayed, run, start, wait_for, workdir
from harness import RET_Z

wd = workdir()


def config(pace):
    # The pace is not in the streams' NodeIDs: both configs name the same nodes.
    return engine_config(wd, "bf", fabricator_source(3, 8, pace, "books = false"), RET_Z,
                         file_name=f"bf-{pace}")[0]


fast, slow = config("200us"), config("1s")
data = os.path.join(wd, "data")
r = run(["run", fast, "--data", data, "--for", "3s"])
check(r.returncode == 0, r.stderr)
manifest = json.loads(run(["manifest", data, "--json"]).stdout)
records = manifest["journal"]["records"]
check(records > 3 * 2048, f"the journal is too short for a backfill of several batches: {records}")
z_id = manifest["outputs"]["z"]["id"]


def lack_z(backfill):
    """Deletes z's outputs from the dir and writes BACKFILL (bytes) as its meta handed_backfill."""
    env = lmdb.open(data, max_dbs=16, map_size=1 << 32)
    with env.begin(write=True) as txn:
        outputs = env.open_db(b"outputs", txn=txn)
        prefix = bytes.fromhex(z_id)
        cur = txn.cursor(outputs)
        deleted = 0
        if cur.set_range(prefix):
            while cur.key().startswith(prefix):
                cur.delete()
                deleted += 1
        txn.put(b"handed_backfill", backfill, db=env.open_db(b"meta", txn=txn))
    env.close()
    check(deleted > 10_000, f"deleted {deleted} outputs of z")


def meta_backfill():
    env = lmdb.open(data, max_dbs=16, map_size=1 << 32, readonly=True)
    with env.begin() as txn:
        value = txn.get(b"handed_backfill", db=env.open_db(b"meta", txn=txn, create=False))
    env.close()
    return value


# z lacks its outputs before the journal's end, as a node handed to this dir would.
lack_z(msgpack.packb({"through": records, "nodes": [z_id]}))


def started(log_path, env_extra=None):
    log = open(log_path, "w")
    proc = start(["run", slow, "--data", data], stdout=subprocess.DEVNULL, stderr=log,
                 env=dict(os.environ, **(env_extra or {})))
    return proc, lambda: open(log_path).read()


# Stopped after its first batch (each batch pauses 250 ms with the failpoint).
proc, log = started(os.path.join(wd, "run2.log"), {"SHOAL_FAILPOINTS": "backfill_slow"})
wait_for(lambda: "a thread of low priority makes them from the journal's start" in log(), timeout=60,
         what=f"the backfill starting: {log()[-2000:]}")
proc.send_signal(signal.SIGTERM)
check(proc.wait(timeout=60) == 0, f"the stop failed: {log()[-2000:]}")
stopped = re.search(r"the backfill stopped after journal record (\d+) of (\d+)", log())
check(stopped and 0 < int(stopped.group(1)) < records and int(stopped.group(2)) == records,
      f"no stop midway in the log: {log()[-2000:]}")
at = int(stopped.group(1))
# (Strings as bytes: the states are checkpoints, not text.)
left = msgpack.unpackb(meta_backfill(), raw=True)
check(left[b"from"] == at and left[b"nodes"] == [z_id.encode()] and z_id.encode() in left[b"states"],
      f"the stop's meta: from {left.get(b'from')}, nodes {left.get(b'nodes')}, states of {sorted(left.get(b'states', {}))}")

def backfill_to_the_end(name, what, *lines):
    """Starts the engine on the dir (log WD/NAME.log) until its backfill is done; checks that its
    log holds each of LINES (WHAT says what they show), stops it cleanly, and checks the dir
    against a replay of its journal. Returns the parity rows."""
    proc, log = started(os.path.join(wd, f"{name}.log"))
    wait_for(lambda: "holds the outputs of the 1 handed node(s)" in log(), timeout=120,
             what=f"the backfill done: {log()[-2000:]}")
    check(all(line in log() for line in lines), f"{what}: {log()[-2000:]}")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(timeout=60) == 0, f"the stop failed: {log()[-2000:]}")
    return check_parity(data, replayed(data, slow, os.path.join(wd, f"replayed-{name}")),
                        f"the dir against a replay, after {name}", min_outputs=10_000)


def journal_records():
    return json.loads(run(["manifest", data, "--json"]).stdout)["journal"]["records"]


# The next start goes on from there, and then every output, z's before the journal's end included,
# is as a replay of the journal makes it.
rows = backfill_to_the_end("run3", f"the second start did not go on from record {at + 1}",
                           f"makes them from journal record {at + 1}, where it was left",
                           f", from journal record {at + 1}, in ")
check("z" in rows, f"no z in the parity table: {rows}")
check(meta_backfill() in (None, b""), "the meta still holds a backfill once it is done")

# The same stop's meta, z's state damaged: the start says so and begins at the journal's start. The
# journal grew since (a scan a second): z lacks its outputs up to its end now.
left[b"states"][z_id.encode()] = b"not a checkpoint"
left[b"through"] = journal_records()
lack_z(msgpack.packb(left, use_bin_type=False))  # bytes as MessagePack strings, as shoal writes them
backfill_to_the_end("run4", "the damaged state was not refused, or the backfill did not begin at the start",
                    "the state the backfill saved of z cannot be restored", ", from journal record 1, in ")

# Killed (SIGKILL) midway: the next start goes on from the last position the backfill saved (after
# each batch with the failpoint; every 30 s without it).
lack_z(msgpack.packb({"through": journal_records(), "nodes": [z_id]}))
proc, log = started(os.path.join(wd, "run5.log"), {"SHOAL_FAILPOINTS": "backfill_slow"})


def saved_from():
    value = meta_backfill()
    return msgpack.unpackb(value, raw=True).get(b"from", 0) if value else 0


wait_for(lambda: saved_from() >= 2 * 2048, timeout=60, what=f"a second batch saved: {log()[-2000:]}")
proc.kill()
proc.wait(timeout=30)
killed_at = saved_from()
backfill_to_the_end("run6", f"the start after the kill did not go on from record {killed_at + 1}",
                    f"makes them from journal record {killed_at + 1}, where it was left",
                    f", from journal record {killed_at + 1}, in ")
print(f"ok: {records} records; the backfill stopped after record {at} and went on from there; a damaged state "
      f"made it start over; killed after saving record {killed_at}, it went on from there")
