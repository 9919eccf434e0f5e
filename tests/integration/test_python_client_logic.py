"""The Python client's bookkeeping against scripted peers (a PUB and a snapshot ROUTER played by
this test, so every case is exact): a live seq jump is filled from the snapshot; without a
snapshot it is a Gap; a duplicate is dropped; seqs that begin again at 1 are followed; last_seq
counts only what the caller was given; a snapshot that cannot answer leaves a Gap instead of
failing; frames that are not Outputs are skipped."""
import os
import sys
import threading
import time

import msgpack
import zmq

from harness import SOURCE_DIR, check

sys.path.insert(0, os.path.join(SOURCE_DIR, "clients/python"))
from shoal_client import Subscriber  # noqa: E402

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
pub_port = pub.bind_to_random_port("tcp://127.0.0.1")
snap = ctx.socket(zmq.ROUTER)
snap_port = snap.bind_to_random_port("tcp://127.0.0.1")
history = {}  # topic → [output maps] the snapshot endpoint knows
unknown = set()  # topics the snapshot endpoint refuses
stop = threading.Event()


def output(topic, seq):
    return {"node": topic, "id": "ab" * 32, "seq": seq, "bucket": 1767225600 * 10**9 + seq * 10**9,
            "value": {"assets": ["A", "B"], "values": [float(seq), -float(seq)]}}


def serve():
    while not stop.is_set():
        if not snap.poll(50):
            continue
        ident, empty, body = snap.recv_multipart()
        req = msgpack.unpackb(body)
        if req["topic"] in unknown:
            answer = {"ok": False, "error": f'unknown topic "{req["topic"]}"'}
        else:
            answer = {"ok": True, "topic": req["topic"], "outputs": history.get(req["topic"], [])[-req["n"]:]}
        snap.send_multipart([ident, empty, msgpack.packb(answer)])


threading.Thread(target=serve, daemon=True).start()


def publish(topic, seq, keep=True):
    m = output(topic, seq)
    if keep:
        history.setdefault(topic, []).append(m)
    pub.send_multipart([topic.encode(), msgpack.packb(m)])


def connected(sub, topic, seq=1):
    # A SUB's subscription reaches the PUB a moment after connecting: publish seq until it
    # arrives (the history holds it once).
    publish(topic, seq)
    for _ in range(100):
        out = sub.receive(timeout=0.05)
        if out is not None:
            return out
        pub.send_multipart([topic.encode(), msgpack.packb(output(topic, seq))])
    check(False, "the subscriber never connected")


def drain(sub, n):
    got = []
    while len(got) < n:
        out = sub.receive(timeout=5)
        check(out is not None, f"only {len(got)} of {n} outputs: {[o.seq for o in got]}")
        got.append(out)
    return got


EP, SNAP = f"tcp://127.0.0.1:{pub_port}", f"tcp://127.0.0.1:{snap_port}"

# 1. A live jump is filled from the snapshot; a duplicate is dropped; junk is skipped.
with Subscriber(EP, ["t1"], snapshot=SNAP) as sub:
    check(connected(sub, "t1").seq == 1, "first output")
    for seq in (2, 3):
        publish("t1", seq)
    for seq in (4, 5, 6):  # published while the subscriber was not listening: history only
        history.setdefault("t1", []).append(output("t1", seq))
    pub.send_multipart([b"t1", b"\xc1 not msgpack"])
    pub.send_multipart([b"t1"])  # one frame
    publish("t1", 7)
    pub.send_multipart([b"t1", msgpack.packb(output("t1", 7))])  # again
    publish("t1", 8)
    got = [o.seq for o in drain(sub, 7)]
    check(got == [2, 3, 4, 5, 6, 7, 8], f"filled jump: {got}")
    time.sleep(0.2)
    check(sub.receive(timeout=0.2) is None, "the duplicate 7 is not yielded")
    check(sub.filled == 3 and sub.duplicates >= 1 and not sub.gaps,
          f"filled {sub.filled}, duplicates {sub.duplicates}, gaps {sub.gaps}")
    check(sub.last_seq == {"t1": 8}, str(sub.last_seq))

# 2. Without a snapshot endpoint the jump is a Gap; seqs that begin again at 1 are followed.
with Subscriber(EP, ["t2"]) as sub:
    connected(sub, "t2")
    publish("t2", 2)
    publish("t2", 5)
    publish("t2", 1)  # the sender began again (a fresh data dir)
    publish("t2", 2)
    got = [o.seq for o in drain(sub, 4)]
    check(got == [2, 5, 1, 2], f"gap and reset: {got}")
    check([tuple(g) for g in sub.gaps] == [("t2", 2, 5)] and sub.gaps[0].missed == 2 and sub.resets == 1,
          f"gaps {sub.gaps}, resets {sub.resets}")

# 3. last_seq counts what the caller was given: a resume from it misses nothing.
with Subscriber(EP, ["t3"], snapshot=SNAP) as sub:
    connected(sub, "t3")
    for seq in range(2, 11):
        publish("t3", seq)
    time.sleep(0.2)
    drain(sub, 3)  # the rest is queued in the client, not given
    check(sub.last_seq == {"t3": 4}, f"last_seq after 4 given: {sub.last_seq}")
    resume = dict(sub.last_seq)
with Subscriber(EP, ["t3"], snapshot=SNAP, resume=resume) as sub:
    publish("t3", 11)
    got = [o.seq for o in drain(sub, 7)]
    check(got == list(range(5, 12)), f"resumed: {got}")

# 4. A snapshot that refuses (a node removed meanwhile) leaves a Gap, never an exception.
unknown.add("t4")
with Subscriber(EP, ["t4"], snapshot=SNAP) as sub:
    connected(sub, "t4")
    publish("t4", 4)
    got = [o.seq for o in drain(sub, 1)]
    check(got == [4] and [tuple(g) for g in sub.gaps] == [("t4", 1, 4)], f"{got} {sub.gaps}")
with Subscriber(EP, ["t4"], snapshot=SNAP, resume={"t4": 4}) as sub:
    check(connected(sub, "t4", 5).seq == 5, "resume with a refused snapshot")

try:
    Subscriber(EP, "z")
    check(False, "a plain string as topics is refused")
except TypeError:
    pass
stop.set()
print("ok: fill, gap, duplicate, reset, last_seq, refused snapshot")
