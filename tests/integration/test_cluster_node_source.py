"""Cluster mode: one engine follows another's node from the cluster's stream (a cluster_node
source). Engine a1 computes ret → z and puts its outputs in the stream ([cluster] stream_outputs);
engine b1 reads z from there (its NodeID from `shoal plan --ids`) into its stream up.z and computes
an ema of it. b1 is killed with SIGKILL while a1 runs on, and started again on its dir; then a1
stops. b1's journal holds every output of z once, in seq order, each z's seq as the stream's seq,
its bucket as the event time and its value as the payload: nothing a1 made while b1 was down is
lost or repeated. b1's ema equals a replay of b1's journal. Then z's subject is replaced by another
history (a1's journal and outputs purged, z fed other input): b1 started again on its dir says so
and journals none of it."""
import json
import os
import re
import signal
import time

import msgpack

from cluster_harness import admin_nodes, cluster_engine_config, local_cluster, nats_request
from harness import check, engine_config, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd, servers=1)
a_cfg, _ = cluster_engine_config(wd, "a", "a1", f'{cluster.servers_line}\nreplicas = 1\ncheckpoints = false\n'
                                 'stream_outputs = true')
r = run(["plan", "--ids", a_cfg])
check(r.returncode == 0, f"shoal plan --ids: {r.stderr}")
ids = {line.split()[1]: line.split()[0] for line in r.stdout.splitlines()}
check(set(ids) == {"ret", "z"} and all(len(i) == 64 for i in ids.values()), f"shoal plan --ids printed {r.stdout}")

b_cfg, _ = engine_config(
    wd, "b1",
    f'name = "up"\nkind = "cluster_node"\nengine = "a1"\ninterval = "1s"\n\n'
    f'[[source.stream]]\nname = "z"\nnode = "{ids["z"]}"',
    '[[node]]\nname = "zema"\nkind = "ema"\ninputs = { in = "up.z" }\nparams = { span = 5 }',
    tables=f'[cluster]\n{cluster.servers_line}\nreplicas = 1\ncheckpoints = false')
a_data, b_data = os.path.join(wd, "a"), os.path.join(wd, "b")


def journaled(data=None):
    """b1's journal events of up.z (its dir is read while it runs: committed within commit_ms)."""
    lines = run(["export", data or b_data, "--journal"]).stdout.splitlines()
    return [e for e in (json.loads(line) for line in lines)
            if e.get("stream") == "up.z" and "payload" in e]


def starts(text):
    """The seqs b1's reads of z started from, as its log says."""
    return [int(s) for s in re.findall(rf"stream up.z reads node {ids['z']} of engine a1 from seq (\d+)", text)]


def z_made(data):
    return next((n["outputs"] for n in admin_nodes(data) if n["name"] == "z"), 0)


a_log, b_log = open(os.path.join(wd, "a.log"), "w"), open(os.path.join(wd, "b.log"), "w")
a = start(["run", a_cfg, "--data", a_data], stdout=a_log, stderr=a_log)
b = start(["run", b_cfg, "--data", b_data], stdout=b_log, stderr=b_log)
wait_for(lambda: len(journaled()) >= 100, timeout=60, what="b1 journaling 100 outputs of z")
b.send_signal(signal.SIGKILL)
b.wait(timeout=10)
killed_at = z_made(a_data)
wait_for(lambda: z_made(a_data) >= killed_at + 300, timeout=60, what="a1 making 300 more outputs of z")
b_log.flush()
first_run = open(os.path.join(wd, "b.log")).read()
b = start(["run", b_cfg, "--data", b_data], stdout=b_log, stderr=b_log)
wait_for(lambda: len(journaled()) > killed_at, timeout=60, what="b1 started again")
a.terminate()
check(a.wait(timeout=60) == 0, "a1 did not stop cleanly")

z = [json.loads(line) for line in run(["export", a_data, "--outputs", "--node", "z"]).stdout.splitlines()]
check(len(z) > killed_at + 300 and [o["seq"] for o in z] == list(range(1, len(z) + 1)),
      f"a1 stored {len(z)} outputs of z")


wait_for(lambda: len(journaled()) == len(z), timeout=60, what=f"b1 journaling all {len(z)} outputs of z")
b.terminate()
check(b.wait(timeout=60) == 0, "b1 did not stop cleanly")
events = journaled()
check([e["seq"] for e in events] == [o["seq"] for o in z], "b1's seqs of up.z are not z's, once each, in order")
check(all(e["ts"] == o["bucket"] and e["payload"] == o["value"] for e, o in zip(events, z)),
      "b1 journaled other payloads or times than a1's outputs of z")
b_text = open(os.path.join(wd, "b.log")).read()
check("error" not in b_text.lower(), f"b1 logged an error: {b_text[-2000:]}")
# Each start reads z from the seq after the last one its journal held, not from z's start.
before, after = starts(first_run), starts(b_text[len(first_run):])
check(before[:1] == [1] and after and 100 < after[0] <= killed_at + 1,
      f"b1's reads of z started from seqs {before} before the kill and {after} after it")

# b1's ema over what it took equals a replay of its journal.
digest = os.path.join(wd, "b.digest.json")
r = run(["replay", b_data, "--digest", digest], timeout=120)
check(r.returncode == 0, f"shoal replay: {r.stderr}")
r = run(["parity", digest, b_data], timeout=60)
check(r.returncode == 0, f"shoal parity: {r.stdout} {r.stderr}")

# `from`: engine c1 on an empty dir starts at z's first output of a bucket from that time on, not at
# its seq 1 (found with a few direct gets); started again, it goes on after its journal.
m = len(z) // 2
from_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(z[m]["bucket"] // 10**9))
check(z[m]["bucket"] % 10**9 == 0 and z[m - 1]["bucket"] < z[m]["bucket"], "z's buckets are not whole seconds")
c_cfg, _ = engine_config(
    wd, "c1",
    f'name = "up"\nkind = "cluster_node"\nengine = "a1"\ninterval = "1s"\nfrom = "{from_time}"\n\n'
    f'[[source.stream]]\nname = "z"\nnode = "{ids["z"]}"',
    '[[node]]\nname = "zema"\nkind = "ema"\ninputs = { in = "up.z" }\nparams = { span = 5 }',
    tables=f'[cluster]\n{cluster.servers_line}\nreplicas = 1\ncheckpoints = false')
c_data = os.path.join(wd, "c")
# A late copy of z's seq 5 last on its subject (a resend after the duplicate window), after more
# messages of another subject than the stream held: the search for `from`'s bucket ends on it (a
# seq of an earlier bucket), so c1 reads z from seq 6 and passes over the outputs before `from`.
subject = f"shoal.out.a1.{ids['z']}"
held = nats_request(cluster.base, "$JS.API.STREAM.INFO.SHOAL", b"")["state"]["last_seq"]
late = msgpack.packb({"bucket": z[4]["bucket"], "id": ids["z"], "node": "z", "seq": 5, "value": -1.5})
before = f"PUB shoal.out.a1.{'f' * 64} 1\r\nx\r\n".encode() * (2 * held)
check(nats_request(cluster.base, subject, late, msg_id="late:5", before=before).get("seq") == 3 * held + 1,
      "the late copy of z's seq 5 was not stored last")
for turn, reads_from in (("first", "from seq 6, starting at its first output for"),
                         ("again", f"from seq {len(z) + 1}")):
    c_log = os.path.join(wd, f"c-{turn}.log")
    with open(c_log, "w") as out:
        c = start(["run", c_cfg, "--data", c_data], stdout=out, stderr=out)
    wait_for(lambda: reads_from in open(c_log).read(), timeout=60, what=f"c1 ({turn}) reading z")
    # Started again, it reads after its journal's last seq (the wait above says so): nothing more.
    if turn == "first":
        wait_for(lambda: len(journaled(c_data)) >= len(z) - m, timeout=60, what="c1 journaling z from `from` on")
    c.terminate()
    check(c.wait(timeout=60) == 0, f"c1 ({turn}) did not stop cleanly")
    r_stderr = open(c_log).read()
    check("error" not in r_stderr.lower(), f"c1 ({turn}) logged an error: {r_stderr[-2000:]}")
    c_events = journaled(c_data)
    check([e["seq"] for e in c_events] == [o["seq"] for o in z[m:]] and
          all(e["ts"] == o["bucket"] and e["payload"] == o["value"] for e, o in zip(c_events, z[m:])),
          f"c1 ({turn}) journaled seqs {[e['seq'] for e in c_events][:5]}..., not z's from seq {m + 1} "
          f"({from_time}) on")
    said = (f"starting at its first output for {from_time}" in r_stderr) == (turn == "first")
    check(said, f"c1 ({turn}) did not say where it read z from: {r_stderr[-2000:]}")
r = run(["replay", c_data, "--digest", digest], timeout=120)
check(r.returncode == 0, f"shoal replay of c1: {r.stderr}")
r = run(["parity", digest, c_data], timeout=60)
check(r.returncode == 0, f"shoal parity of c1: {r.stdout} {r.stderr}")
# a1's history started anew (its journal and outputs purged from the stream, z fed other input):
# first shorter than b1's journal (said, and waited for: it may be a message stored late), then
# reaching past it with another value at b1's last seq (refused). b1 started again on its dir
# journals none of it.
check(nats_request(cluster.base, "$JS.API.STREAM.PURGE.SHOAL", json.dumps({"filter": subject}).encode())
      .get("success"), "z's subject was not purged")


def store_other(seq):
    other = msgpack.packb({"bucket": seq * 1_000_000_000, "id": ids["z"], "node": "z", "seq": seq,
                           "value": {"assets": ["A000"], "values": [0.5]}})
    check("seq" in nats_request(cluster.base, subject, other, msg_id=f"anew:{seq}"), f"the other z {seq} was not stored")


for said, seqs in ((f"only through seq 3, below seq {len(z)}, where this engine's journal ends", (1, 2, 3)),
                   (f"stream up.z's journal ends with seq {len(z)} of node {ids['z']} of engine a1, and the "
                    "cluster's stream holds another bucket or value there", (len(z), len(z) + 1))):
    for q in seqs:
        store_other(q)
    r = run(["run", b_cfg, "--data", b_data, "--for", "4s"], timeout=60)
    check(r.returncode == 0 and said in r.stderr, f"b1 on z's new history {seqs}: {r.returncode} {r.stderr[-2000:]}")
    check(len(journaled()) == len(z), f"b1 journaled outputs of z's new history {seqs} after its old one")

print(f"ok: b1 took z's {len(z)} outputs from the stream across its kill at {killed_at}, once each and in order; "
      f"its ema equals its replay; c1 with from = {from_time} took them from seq {m + 1}")
