"""`shoal tail --from-stream NODE --since SEQ` when a copy stored late is the subject's last message
at the seek: the seek cannot tell that seqs after SEQ lie before it (nothing follows it yet), starts
after it, and tail finds out at the node's next output (it does not go on at SEQ + 1). Then tail reads
the stream again from its start, once, and still prints every seq after SEQ once, in order, with
the engine's bytes.

The late copy is what a partitioned process's reconnect buffer sends after the duplicate window: a
message of an old seq, under a message id the stream has not seen. The test publishes it over the
NATS protocol itself, between two runs of one engine."""
import base64
import json
import os
import signal
import subprocess
import threading

import msgpack

from cluster_harness import cluster_engine_config, last_seq, local_cluster, nats_request
from harness import check, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd, servers=1)
cfg, _ = cluster_engine_config(wd, "a", "f1", f"{cluster.servers_line}\nreplicas = 1\nstream_outputs = true")
data = os.path.join(wd, "a")
log = open(os.path.join(wd, "engine.log"), "w")


def run_engine():
    return start(["run", cfg, "--data", data], stdout=log, stderr=subprocess.STDOUT)


def stop(p):
    p.send_signal(signal.SIGTERM)  # the exporter sends what is stored before the process ends
    check(p.wait(timeout=60) == 0, f"the engine exited with {p.returncode}")


def stored_z():
    lines = [line for line in run(["export", data, "--outputs"]).stdout.splitlines()
             if json.loads(line)["node"] == "z"]
    return sorted((json.loads(line) for line in lines), key=lambda o: o["seq"])


OTHER = f"shoal.out.f1.{'f' * 64}"  # a subject of the stream that no node of the config has


def request(subject, payload, msg_id=None, others=0):
    """OTHERS messages to OTHER, then one request to SUBJECT (with a message id if MSG_ID);
    returns the answer (JSON)."""
    return nats_request(cluster.base, subject, payload, msg_id, f"PUB {OTHER} 1\r\nx\r\n".encode() * others)


def publish(subject, payload, msg_id, others=0):
    """The stream's acknowledgement of PAYLOAD published to SUBJECT (after OTHERS to OTHER)."""
    return request(subject, payload, msg_id, others)


def stream_seq_of(subject):
    """The seq of the subject's last output in the stream (0: none)."""
    got = request("$JS.API.STREAM.MSG.GET.SHOAL", json.dumps({"last_by_subj": subject}).encode())
    if "error" in got:
        check(got["error"].get("code") == 404, f"reading the end of {subject}: {got}")
        return 0  # no message on it
    return msgpack.unpackb(base64.b64decode(got["message"]["data"]))["seq"]


# A first run: z's outputs, well past the seek's margin (two exporter batches, 512 seqs).
engine = run_engine()
wait_for(lambda: last_seq(data, "z") >= 1400, timeout=60, what="z's outputs")
stop(engine)
z = stored_z()
first_run = len(z)
since = first_run - 50
z_id = z[0]["id"]
# The stop sends what is stored to the stream, unless the cluster does not answer within its
# drain (then the engine says so, and sends the rest from its data dir at the next start).
in_stream = stream_seq_of(f"shoal.out.f1.{z_id}")
log.flush()
said_lacking = "the stream lacks some of the last outputs" in open(log.name).read()
check(in_stream == first_run or (in_stream < first_run and said_lacking),
      f"the stream holds z through seq {in_stream}, the engine stored {first_run} "
      f"(and {'said' if said_lacking else 'did not say'} the stream lacks some)")
check(in_stream >= since, f"the stream holds z through seq {in_stream} only, before --since {since}: "
      "the test does not make the case it is for")
if in_stream != first_run:
    print(f"note: the stop's drain left seqs {in_stream + 1}..{first_run} for the next start")

# The late copy: z's seq 100 again (its bucket, another value), after every output of the run, and
# after more messages of another subject than the stream held (the seek's first probes land
# between them, and find the late copy next: the search ends on it).
held = publish(OTHER, b"x", "other")["seq"]
late = msgpack.packb({"bucket": z[99]["bucket"], "id": z_id, "node": "z", "seq": 100, "value": -1.5})
ack = publish(f"shoal.out.f1.{z_id}", late, "late:100", others=2 * held)
check(not ack.get("duplicate") and ack.get("seq") == 3 * held + 1, f"the late copy was not stored last: {ack}")

tail = subprocess.Popen([os.environ["SHOAL_BIN"], "tail", "--cluster", cfg, "--from-stream", "z", "--since",
                         str(since), "--json", "--count", "80", "--for", "60s"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
said = []
reader = threading.Thread(target=lambda: said.extend(tail.stderr), daemon=True)
reader.start()
wait_for(lambda: any("reading from stream sequence" in line for line in said), timeout=20,
         what=f"tail's seek: {said}")
sought_at = int(next(line for line in said if "reading from stream sequence" in line).split()[-1])
check(sought_at > ack["seq"], f"tail started at stream sequence {sought_at}, before the late copy at {ack['seq']}: "
      "the test does not make the case it is for")

# The engine again: z goes on at in_stream + 1, not since + 1, where tail reads.
engine = run_engine()
out = tail.stdout.read()  # until tail ends (--count, or --for)
tail.wait(timeout=30)
reader.join(timeout=10)
stop(engine)
printed = [json.loads(line) for line in out.splitlines()]
stderr = "".join(said)
check(tail.returncode == 0, f"tail exited with {tail.returncode}: {stderr[-2000:]}")
check(f"z goes on at seq {in_stream + 1}: reading the stream from its start" in stderr, f"tail did not read again: {stderr}")
check(not any(w in stderr for w in ("gap on", "twice", "came late")), f"tail: {stderr}")
z = stored_z()
check(printed == z[since:since + 80],
      f"tail printed seqs {[o['seq'] for o in printed][:10]}..., the engine stored {since + 1}..{since + 80}")
print(f"ok: the seek started after the late copy (stream sequence {sought_at}); tail read the stream again "
      f"at z's seq {in_stream + 1} and printed seqs {since + 1}..{since + 80} once, in order")



def tail_from(k):
    """tail --from z[k]'s bucket: prints z[k:k + 20]; returns what tail said."""
    got = run(["tail", "--cluster", cfg, "--from-stream", "z", "--from", str(z[k]["bucket"]), "--json",
               "--count", "20", "--for", "30s"])
    check(got.returncode == 0, f"tail --from exited with {got.returncode}: {got.stderr[-2000:]}")
    printed = [json.loads(line) for line in got.stdout.splitlines()]
    check(printed == z[k:k + 20],
          f"tail --from {z[k]['bucket']} printed seqs {[o['seq'] for o in printed]}, the engine stored "
          f"{k + 1}..{k + 20} from that bucket on")
    return got.stderr


# --from TIME: each node's outputs of buckets from TIME on, sought by bucket (a few direct gets).
# The engine is stopped: what tail prints is what the stream held. First a bucket of seq
# in_stream + 6, stored after the late copy of seq 100: every message between them is for an
# earlier bucket, so the search ends near it and tail seeks.
k = in_stream + 5  # z[k] is seq k + 1; the two runs made at least since + 80
said_from = tail_from(k)
check("reading from stream sequence" in said_from, f"tail --from did not seek: {said_from}")
# Then the bucket of seq since + 1, stored before the late copy, which lies among later buckets:
# the search ends on the copy (seq 100), tail reads from z's first message, and skips by bucket the
# outputs before since + 1 that it reads after seq 100.
said_from = tail_from(since)
z_first = request("$JS.API.STREAM.MSG.GET.SHOAL",
                  json.dumps({"seq": 1, "next_by_subj": f"shoal.out.f1.{z_id}"}).encode())["message"]["seq"]
sought = [int(line.split()[-1]) for line in said_from.splitlines() if "reading from stream sequence" in line]
check(z_first > 1 and sought == [z_first] and "reading the stream from its start" not in said_from,
      f"tail --from read from stream sequence {sought}, not z's first message at {z_first}, or read again: {said_from}")
bad = run(["tail", "--cluster", cfg, "--from-stream", "z", "--from", "yesterday"])
check(bad.returncode == 2 and '--from: "yesterday" is not a time' in bad.stderr,
      f"a bad --from: exit {bad.returncode}, {bad.stderr}")
print(f"ok: tail --from a bucket printed seqs {k + 1}..{k + 20} (sought) and {since + 1}..{since + 20} "
      "(z's first message on, skipping earlier buckets)")
