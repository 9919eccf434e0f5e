"""Who may connect (issue 18): CURVE on the engine's endpoints and on a zmq source, real sockets.

Keys come from `shoal keys gen` (ZeroMQ certificates; pyzmq's zmq.auth reads them).
1. The quickstart runs with [engine] curve, alice's key in allowed_clients: alice (CURVE, her key)
   receives every output from her first on, seqs without a gap; mallory (CURVE, a key not
   allowed) and a plain subscriber receive nothing; both refusals are counted in the metrics.
2. alice's key taken out of allowed_clients and `admin reload-keys`: she is cut off; put back and
   reloaded: she receives again.
4. Through a raw TCP proxy that records the bytes, a CURVE session carries outputs whose
   plaintext names assets (A000…) and topics (market.scan): none of it is in the recorded bytes.
3. A zmq source with curve = { secret_key_file, server_key } reads a CURVE feed (pyzmq, its own
   key pair and allow-list): refused while the feed does not know its key (counted, and it keeps
   trying), read once the feed allows it; with a wrong server key it gets nothing, counted.
Also: a secret key file readable by others stops `shoal run` with exit 2 naming the path."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import msgpack
import zmq
import zmq.auth
import zmq.auth.thread

from harness import SHOAL, SOURCE_DIR, check, feed_config, free_port, run, start, wait_for, workdir, node_subscriber

wd = workdir()
keys = os.path.join(wd, "keys")
clients = os.path.join(wd, "clients")
os.makedirs(clients)
for name in ("engine", "alice", "mallory", "feed"):
    r = run(["keys", "gen", name, "--out", keys])
    check(r.returncode == 0 and "public key" in r.stdout, r.stderr)
check(oct(os.stat(os.path.join(keys, "alice.key_secret")).st_mode & 0o777) == "0o600", "secret 0600")
engine_pub = run(["keys", "show", os.path.join(keys, "engine.key")]).stdout.strip()
check(len(engine_pub) == 40 and engine_pub.encode() == zmq.auth.load_certificate(
    os.path.join(keys, "engine.key_secret"))[0], "shoal keys show = pyzmq's reading of the file")
shutil.copy(os.path.join(keys, "alice.key"), clients)

port, data = free_port(), os.path.join(wd, "data")
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"',
                    f'publish = "tcp://127.0.0.1:{port}"\n'
                    f'curve = {{ secret_key_file = "keys/engine.key_secret", allowed_clients = "clients" }}')
cfg = os.path.join(wd, "curve.toml")
open(cfg, "w").write(text.replace('pace = "50ms"', 'pace = "5ms"'))
sock = os.path.join(data, "shoal.sock")


def admin(*args):
    r = run(["admin", "--socket", sock, "--json", *args])
    return json.loads(r.stdout) if r.stdout.startswith("{") else {"ok": False, "error": r.stderr}


def metric(name, **labels):
    text = admin("metrics").get("text", "")
    sel = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(re.escape(name + ("{" + sel + "}" if sel else "")) + r" (\d+)", text)
    return int(m.group(1)) if m else -1


ctx = zmq.Context()


def subscriber(secret=None, endpoint=f"tcp://127.0.0.1:{port}"):
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    if secret:
        pub, sec = zmq.auth.load_certificate(os.path.join(keys, secret + ".key_secret"))
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, engine_pub.encode()
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.connect(endpoint)
    return s


def drain(s, seconds):
    got, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        if s.poll(50):
            topic, body = s.recv_multipart()
            got.append((topic, msgpack.unpackb(body, raw=False)))
    return got


engine = start(["run", cfg, "--for", "90s", "--data", data], stderr=subprocess.PIPE, text=True)
try:
    wait_for(lambda: os.path.exists(sock) and admin("version").get("ok"), what="the engine")
    # --- 1. who gets in ---------------------------------------------------------------------
    alice, mallory, plain = subscriber("alice"), subscriber("mallory"), subscriber()
    got = drain(alice, 3)
    seqs = [o["seq"] for t, o in got if t == b"z"]
    check(len(seqs) > 50 and seqs == list(range(seqs[0], seqs[0] + len(seqs))),
          f"alice receives every z output from her first on: {seqs[:3]}…{seqs[-3:]} ({len(seqs)})")
    check(drain(mallory, 0.5) == [] and drain(plain, 0.5) == [], "mallory and plain receive nothing")
    wait_for(lambda: metric("shoal_curve_handshakes_total", result="unknown_key") >= 1
             and metric("shoal_curve_handshakes_total", result="no_curve") >= 1
             and metric("shoal_curve_handshakes_total", result="accepted") >= 1,
             what="both refusals counted")
    check(metric("shoal_curve_allowed_keys") == 1, "one key allowed")
    # The Python and Node clients speak CURVE with a certificate from `shoal keys gen`.
    curve_args = ["--curve-secret", os.path.join(keys, "alice.key_secret"), "--server-key", engine_pub]
    for name, cmd in (("python", ["/usr/bin/python3", os.path.join(SOURCE_DIR, "tests/clients/python/subscriber.py"),
                                  f"tcp://127.0.0.1:{port}", "--seconds", "3"]),
                      ("node", node_subscriber() + [f"tcp://127.0.0.1:{port}", "3"])):
        r = subprocess.run(cmd + curve_args, capture_output=True, text=True, timeout=60)
        summary = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        z = summary.get("topics", {}).get("z", {})
        check(r.returncode == 0 and z.get("count", 0) > 50 and z.get("gaps") == 0,
              f"the {name} client over CURVE: {r.stdout[-300:]} {r.stderr[-300:]}")

    # --- 2. taken out, cut off; put back, let in ---------------------------------------------
    os.remove(os.path.join(clients, "alice.key"))
    r = admin("reload-keys")
    check(r.get("ok") and r["keys"] == 0, r)
    # What was on its way still arrives (the publisher's thread closes her session when it next
    # wakes; a loaded machine may take a while): her stream goes quiet within the deadline (it
    # brings about 20 outputs a second while she is in), then stays quiet.
    wait_for(lambda: drain(alice, 0.5) == [], timeout=15, what="alice's outputs to stop")
    check(drain(alice, 1.5) == [], "alice is cut off once her key is out")
    # A server's refusal ends the connection for good in libzmq 4.3 (no automatic retry): a
    # client connects again (shoal tail does, every second).
    refused = metric("shoal_curve_handshakes_total", result="unknown_key")
    alice.close()
    alice = subscriber("alice")
    check(drain(alice, 1.0) == [], "a new connection with her key is refused too")
    wait_for(lambda: metric("shoal_curve_handshakes_total", result="unknown_key") > refused,
             what="the refusal counted")
    # shoal tail with her key meanwhile: refused, it says so and tries again every second.
    refused = metric("shoal_curve_handshakes_total", result="unknown_key")
    tail = subprocess.Popen([SHOAL, "tail", f"tcp://127.0.0.1:{port}", "z", "--count", "5", "--json",
                             "--curve-secret", os.path.join(keys, "alice.key_secret"),
                             "--server-key", engine_pub], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: metric("shoal_curve_handshakes_total", result="unknown_key") >= refused + 2,
             what="tail refused, and trying again")
    shutil.copy(os.path.join(keys, "alice.key"), clients)
    check(admin("reload-keys").get("keys") == 1, "alice's key is back")
    alice.close()
    alice = subscriber("alice")
    wait_for(lambda: len(drain(alice, 0.3)) > 0, timeout=20, what="alice receiving again")
    out, err = tail.communicate(timeout=30)
    check(tail.returncode == 0 and len(out.splitlines()) == 5 and "handshake" in err
          and "allowed_clients" in err, f"tail gets in once the key is back: {tail.returncode} {err}")

    # --- 4. nothing in clear on the wire ----------------------------------------------------
    captured = bytearray()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    proxy_port = lsock.getsockname()[1]

    def pump(a, b):
        try:
            while True:
                chunk = a.recv(65536)
                if not chunk:
                    break
                captured.extend(chunk)
                b.sendall(chunk)
        except OSError:
            pass

    def proxy():
        c, _ = lsock.accept()
        u = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()

    threading.Thread(target=proxy, daemon=True).start()
    spy = subscriber("alice", f"tcp://127.0.0.1:{proxy_port}")
    got = drain(spy, 2)
    plaintext = b"".join(msgpack.packb(o) + t for t, o in got)
    check(len(got) > 50 and b"A000" in plaintext and b"market.scan" in plaintext,
          f"the session carried outputs naming assets and topics ({len(got)})")
    check(len(captured) > 10000 and b"A000" not in captured and b"market.scan" not in captured
          and b"assets" not in captured, f"no plaintext in {len(captured)} captured bytes")
    for s in (alice, mallory, plain, spy):
        s.close()
finally:
    engine.terminate()
    engine.wait(timeout=20)

# --- 3. a zmq source reading a CURVE feed -------------------------------------------------------
# The feed lets in the keys of its own allow-list (pyzmq's ZAP authenticator), empty at first.
feed_clients = os.path.join(wd, "feed-clients")
os.makedirs(feed_clients)
auth = zmq.auth.thread.ThreadAuthenticator(ctx)
auth.start()
auth.configure_curve(domain="*", location=feed_clients)
fpub, fsec = zmq.auth.load_certificate(os.path.join(keys, "feed.key_secret"))
feed = ctx.socket(zmq.XPUB)
feed.setsockopt(zmq.XPUB_VERBOSE, 1)
feed.curve_server, feed.curve_secretkey = True, fsec
feed_port = feed.bind_to_random_port("tcp://127.0.0.1")
feed_ep = f"tcp://127.0.0.1:{feed_port}"
START, SECOND = 1767225600 * 10**9, 10**9


def source_engine(name, server_key):
    path, _ = feed_config(wd, name, feed_ep, {"a": 'time = "payload"'},
                          source=f'curve = {{ secret_key_file = "keys/engine.key_secret", '
                                 f'server_key = "{server_key}" }}')
    d = os.path.join(wd, name + "-data")
    return start(["run", path, "--for", "60s", "--data", d], stderr=subprocess.PIPE, text=True), d


def feed_until(pred, what, timeout=15):
    k, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline and not pred():
        while feed.poll(0):
            feed.recv()  # subscriptions
        feed.send_multipart([b"a", msgpack.packb({"ts": START + k * SECOND, "assets": ["A", "B"],
                                                  "values": [10.0 + k, 5.0 + k]})])
        k += 1
        time.sleep(0.02)
    check(pred(), f"timed out waiting for {what}")


right, right_data = source_engine("right", fpub.decode())
sock = os.path.join(right_data, "shoal.sock")
try:
    # Refused by the feed: counted, nothing read; the source keeps trying (libzmq would not).
    feed_until(lambda: os.path.exists(sock) and metric("shoal_source_handshake_failures_total") >= 1,
               "the feed refusing the source's key, counted")
    check(admin("inspect", "feed.a").get("counters", {}).get("events_in", -1) == 0, "nothing read")
    shutil.copy(os.path.join(keys, "engine.key"), feed_clients)
    auth.configure_curve(domain="*", location=feed_clients)
    feed_until(lambda: admin("inspect", "feed.a").get("counters", {}).get("outputs", 0) > 5,
               "the source reading the CURVE feed once its key is allowed")
finally:
    right.terminate()
    right.wait(timeout=20)
mallory_pub = run(["keys", "show", os.path.join(keys, "mallory.key")]).stdout.strip()
wrong, wrong_data = source_engine("wrong", mallory_pub)
sock = os.path.join(wrong_data, "shoal.sock")
try:
    feed_until(lambda: os.path.exists(sock) and metric("shoal_source_handshake_failures_total") >= 1,
               "the failed handshakes counted")
    check(admin("inspect", "feed.a").get("counters", {}).get("events_in", -1) == 0,
          "a wrong server key gets nothing")
finally:
    wrong.terminate()
    _, err = wrong.communicate(timeout=20)
check("handshake with" in err, f"the failure is logged: {err[-500:]}")
auth.stop()

# --- a secret key file others may read stops the start -------------------------------------------
os.chmod(os.path.join(keys, "engine.key_secret"), 0o644)
r = run(["run", cfg, "--for", "1s", "--data", os.path.join(wd, "refused")])
check(r.returncode == 2 and "engine.key_secret" in r.stderr and "group or others" in r.stderr,
      f"{r.returncode}: {r.stderr}")
print("ok")
