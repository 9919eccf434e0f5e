"""Mirror issue acceptance 2: a proxy between the primary and the mirror injects, one class at a
time: bytes that are not MessagePack, a scan without `assets`, a NaN and a negative price, a
payload that is not a map, a missing posture, broken acb/esof/mc payloads and a broken order
book. Each gives its counter and its neutral or rejected result, the mirror keeps running, and
parity with the primary returns once clean input resumes (the history is not poisoned)."""
import json
import os
import subprocess
import threading

import msgpack
import zmq

from harness import SHOAL, SOURCE_DIR, check, free_port, run, workdir, free_http, with_ports

wd = workdir()
pub, snap, proxy_port, mpub = (free_port() for _ in range(4))
os.makedirs(os.path.join(wd, "blue"))
os.makedirs(os.path.join(wd, "violet_mirror"))
blue = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()
blue = free_http(blue)
blue = with_ports(blue, {5560: pub, 5561: snap})
open(os.path.join(wd, "blue", "graph.toml"), "w").write(blue)
mirror = open(os.path.join(SOURCE_DIR, "scenarios/violet_mirror/mirror.toml")).read()
mirror = mirror.replace('connect = ["tcp://127.0.0.1:5560"]', f'connect = ["tcp://127.0.0.1:{proxy_port}"]')
mirror = with_ports(mirror, {5561: snap, 5570: mpub})
mirror = mirror.replace('snapshot = "tcp://127.0.0.1:5571"\n', "")
mirror = mirror.replace("catch_up = 400", "catch_up = 0")  # start with the primary, via the proxy
mirror_cfg = os.path.join(wd, "violet_mirror", "mirror.toml")
open(mirror_cfg, "w").write(mirror)

START = 1767225600 * 10**9
SECOND = 10**9


def bad_book(v):
    asset = sorted(v)[0]
    v[asset]["bid_qty"][0] = -3.0
    return msgpack.packb(v)


# bucket index → (topic, fault, how the body is changed); None body = frame dropped
FAULTS = {
    320: ("market.scan", "not_msgpack", lambda v: b"\xc1\xc1 not msgpack"),
    380: ("market.scan", "no_assets", lambda v: msgpack.packb({k: x for k, x in v.items() if k != "assets"})),
    440: ("market.scan", "nan_price", lambda v: msgpack.packb({**v, "prices": [float("nan")] + v["prices"][1:]})),
    500: ("market.scan", "negative_price", lambda v: msgpack.packb({**v, "prices": [-1.0] + v["prices"][1:]})),
    560: ("esof", "not_a_map", lambda v: msgpack.packb([1, 2, 3])),
    620: ("posture", "missing", lambda v: None),
    680: ("acb", "broken", lambda v: msgpack.packb({"boost": "high", "beta": 1.0, "stress": 1})),
    740: ("esof", "broken", lambda v: msgpack.packb({"score": 7.5, "label": "NEUTRAL"})),
    800: ("mc", "broken", lambda v: msgpack.packb({"status": "PURPLE", "scale": 1.0})),
    860: ("market.ob", "broken_book", bad_book),
}
injected = []


def proxy(stop):
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{pub}")
    out = ctx.socket(zmq.PUB)
    out.setsockopt(zmq.SNDHWM, 100000)
    out.bind(f"tcp://127.0.0.1:{proxy_port}")
    while not stop.is_set():
        if not sub.poll(50):
            continue
        topic, body = sub.recv_multipart()
        o = msgpack.unpackb(body, raw=False)
        k = (o["bucket"] - START) // SECOND
        fault = FAULTS.get(k)
        if fault and fault[0] == topic.decode():
            new_value = fault[2](o["value"])
            injected.append((k, fault[0], fault[1]))
            if new_value is None:
                continue
            if fault[1] == "not_msgpack":
                body = new_value  # the whole frame is garbage
            else:
                # A well-formed Output around a broken value: the value itself is what is bad.
                body = msgpack.packb({**o, "value": msgpack.unpackb(new_value, raw=False)}) \
                    if new_value[:1] != b"\xc1" else new_value
        out.send_multipart([topic, body])


stop = threading.Event()
t = threading.Thread(target=proxy, args=(stop,), daemon=True)
t.start()
primary_dir, mirror_dir = os.path.join(wd, "primary"), os.path.join(wd, "mirror")
primary = subprocess.Popen([SHOAL, "run", os.path.join(wd, "blue", "graph.toml"), "--for", "28s",
                            "--data", primary_dir], stderr=subprocess.PIPE, text=True)
report = os.path.join(wd, "mirror-report.json")
m = subprocess.Popen([SHOAL, "run", mirror_cfg, "--for", "29s", "--data", mirror_dir, "--report", report],
                     stderr=subprocess.PIPE, text=True)
p_err = primary.communicate(timeout=90)[1]
m_err = m.communicate(timeout=90)[1]
stop.set()
check(primary.returncode == 0, p_err)
check(m.returncode == 0, f"the mirror did not keep running: {m_err}")
check(len(injected) == len(FAULTS), f"injected {injected}")

rep = json.load(open(report))
nodes = {n["names"][0]: n for n in rep["nodes"]}
check(nodes["primary.market.scan"]["rejected"] == 4, f"scan rejections: {nodes['primary.market.scan']}")
check(nodes["primary.esof"]["rejected"] == 2, f"esof rejections: {nodes['primary.esof']}")
check(nodes["primary.acb"]["rejected"] == 1, "acb rejection")
check(nodes["primary.mc"]["rejected"] == 1, "mc rejection")
check(nodes["primary.market.ob"]["rejected"] == 1, "book rejection")
notes = nodes["sizing_mirror"]["notes"]
check(notes.get("posture_missing", 0) >= 1, f"a missing posture withholds the step: {notes}")
for surface in ("esof", "acb", "mc"):
    check(notes.get(f"neutralized_{surface}", 0) >= 1, f"{surface} neutralized: {notes}")
for kind in ("not_msgpack", "missing_field", "non_finite", "negative"):
    check(f"rejected input ({kind})" in m_err, f"the {kind} rejection is logged: {m_err[-2000:]}")


def values(dir_, node):
    out = {}
    for line in run(["export", dir_, "--outputs"]).stdout.splitlines():
        o = json.loads(line)
        if o["node"] == node:
            out[(o["bucket"] - START) // SECOND] = o["value"]
    return out


prim, mirr = values(primary_dir, "sizing"), values(mirror_dir, "sizing_mirror")
common = sorted(set(prim) & set(mirr))
differ = [k for k in common if prim[k] != mirr[k]]
check(len(common) > 900, f"only {len(common)} common buckets")
# Every difference sits in the aftermath of a fault; the neutralized ones carry the list.
for k in differ:
    check(any(0 <= k - f <= 60 for f in FAULTS), f"bucket {k} differs far from any fault")
surface_faults = [f for f, (topic, _, _) in FAULTS.items() if topic in ("esof", "acb", "mc")]
for f in surface_faults:
    check(f in mirr, f"bucket {f} (a broken {FAULTS[f][0]}): the mirror has no output")
    check(mirr[f].get("neutralized") == [FAULTS[f][0]], f"bucket {f}: {mirr[f]}")
check(620 not in mirr, "the step without posture is withheld")
tail = [k for k in common if k > max(FAULTS) + 60]
check(len(tail) > 100 and all(prim[k] == mirr[k] for k in tail), "parity returns after the faults")
print(f"ok: {len(differ)} of {len(common)} buckets differ, all within 60 buckets of a fault; "
      f"{len(tail)} identical buckets after the last one")
