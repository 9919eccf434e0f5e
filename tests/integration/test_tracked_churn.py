"""Tracked subscribers that churn under names they share, some of them stalling: the engine
keeps running and answering its admin socket. With ZeroMQ's router handover, libzmq 4.3.4
aborted the engine within seconds of this (`Assertion failed: !_io_error`, found by the soak);
a second connection under a connected name is now refused instead, and a name is free again
once its connection is gone."""
import json
import os
import random
import signal
import threading
import time

import zmq

from harness import check, free_port, run, start, wait_for, workdir, free_http, wait_live

wd = workdir()
tracked, pub = free_port(), free_port()
cfg = open(os.path.join(os.environ["SHOAL_SOURCE_DIR"], "scenarios/blue/graph.toml")).read()
cfg = free_http(cfg)
cfg = cfg.replace("tcp://127.0.0.1:5560", f"tcp://127.0.0.1:{pub}")
cfg = cfg.replace('snapshot = "tcp://127.0.0.1:5561"\n', "")
cfg = cfg.replace("[engine]\n", f'[engine]\npublish_tracked = "tcp://127.0.0.1:{tracked}"\n', 1)
open(os.path.join(wd, "g.toml"), "w").write(cfg)
data = os.path.join(wd, "d")
log = open(os.path.join(wd, "engine.log"), "w")
engine = start(["run", os.path.join(wd, "g.toml"), "--data", data], stderr=log)
sock = os.path.join(data, "shoal.sock")
wait_live(sock)

ctx = zmq.Context()
stop = threading.Event()
clients = [0]


def churn(seed):
    rng = random.Random(seed)
    while not stop.is_set() and engine.poll() is None:
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.ROUTING_ID, f"shared-{rng.randrange(3)}".encode())
        s.connect(f"tcp://127.0.0.1:{tracked}")
        s.send_multipart([b"subscribe", b""])
        stall = rng.random() < 0.33
        until = time.monotonic() + rng.uniform(0.3, 3)
        while time.monotonic() < until and not stop.is_set():
            if stall:
                time.sleep(0.1)
            elif s.poll(50):
                s.recv_multipart()
        s.send_multipart([b"bye", b""])
        s.close()
        clients[0] += 1


threads = [threading.Thread(target=churn, args=(seed,)) for seed in range(3)]
for t in threads:
    t.start()
end = time.monotonic() + 25
while time.monotonic() < end and engine.poll() is None:
    time.sleep(0.5)
stop.set()
for t in threads:
    t.join()
log.flush()
check(engine.poll() is None,
      f"the engine died (exit {engine.returncode}): {open(os.path.join(wd, 'engine.log')).read()[-500:]}")
r = run(["admin", "--socket", sock, "--json", "subscribers"], timeout=30)
check(r.returncode == 0, f"admin subscribers: {r.stderr}")
names = {s["name"] for s in json.loads(r.stdout)["subscribers"]}
check(names <= {"shared-0", "shared-1", "shared-2"} and names, f"subscribers listed: {names}")
engine.send_signal(signal.SIGINT)
check(engine.wait(timeout=60) == 0, "a clean stop")
print(f"ok: {clients[0]} tracked clients under 3 shared names, the engine alive and answering")
