"""Admin plane under abuse (issue 15, items 3 and 4), with the real engine on loopback.

Invalid UTF-8 and random bytes on the Unix socket, TCP (before any token) and HTTP each get an
error (a valid UTF-8 JSON line on the line endpoints) and all three endpoints answer afterwards;
more idle TCP or HTTP connections than their caps never lock out `shoal admin --socket`; idle
connections close after [engine] admin_idle_timeout / metrics_idle_timeout; bad tokens are
answered after a growing delay, without stalling the Unix socket, and logged once per interval."""
import atexit
import json
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request

from harness import SOURCE_DIR, check, free_port, run, start, wait_for, workdir

TOKEN = "s3cret-token-0123456789"
TCP_CAP, HTTP_CAP = 64, 64  # admin_options defaults (runtime/admin/admin_server.hpp)
wd = workdir()


class engine:
    """`shoal run` with admin_tcp, a token and metrics_http; stderr collected as it comes."""

    def __init__(self, name, extra=""):
        self.tcp_port, self.http_port = free_port(), free_port()
        text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
        text = text.replace('publish = "tcp://127.0.0.1:5556"',
                            f'publish = "tcp://127.0.0.1:{free_port()}"\n'
                            f'admin_tcp = "127.0.0.1:{self.tcp_port}"\nadmin_token = "{TOKEN}"\n'
                            f'metrics_http = "127.0.0.1:{self.http_port}"\n' + extra)
        cfg = os.path.join(wd, name + ".toml")
        open(cfg, "w").write(text)
        data = os.path.join(wd, name)
        self.sock = os.path.join(data, "shoal.sock")
        self.proc = start(["run", cfg, "--for", "120s", "--data", data], stderr=subprocess.PIPE,
                          text=True, errors="replace")
        self.log = []
        self.stopped = False
        atexit.register(self.on_exit)
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        # The socket's file appears at bind, a moment before it listens: wait for an answer.
        wait_for(self.answers, what="the admin socket")

    def answers(self):
        try:
            return self.version_unix()["ok"]
        except OSError:
            return False

    def unix(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.sock)
        return s

    def tcp(self):
        return socket.create_connection(("127.0.0.1", self.tcp_port), timeout=10)

    def http(self):
        return socket.create_connection(("127.0.0.1", self.http_port), timeout=10)

    def version_unix(self):
        with self.unix() as s:
            return ask(s, {"cmd": "version"})

    def version_tcp(self):
        with self.tcp() as s:
            return ask(s, {"cmd": "version", "token": TOKEN})

    def metrics_http(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=10) as r:
            return r.status, r.read().decode()

    def on_exit(self):
        """After a failed check: show what the engine said (start() kills it)."""
        if not self.stopped:
            print(f"engine {self.sock} log (last 20 lines):\n" + "".join(self.log[-20:]))

    def stop(self):
        self.stopped = True
        self.proc.terminate()
        self.proc.wait(timeout=30)
        check(self.proc.returncode == 0, "".join(self.log))


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf


def answer(s):
    """One answer line: strict UTF-8 and JSON, or the test fails."""
    line = read_line(s)
    check(line.endswith(b"\n"), f"no answer line, got {line!r}")
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        check(False, f"answer is not UTF-8 JSON ({e}): {line!r}")


def ask(s, req):
    s.sendall(json.dumps(req).encode() + b"\n")
    return answer(s)


def answered(socks):
    """The sockets with something to read now (peeked, not consumed)."""
    out = []
    for s in socks:
        timeout = s.gettimeout()
        s.setblocking(False)  # with a timeout, Python would wait for data before recv
        try:
            if s.recv(1, socket.MSG_PEEK):
                out.append(s)
        except BlockingIOError:
            pass
        finally:
            s.settimeout(timeout)
    return out


def version_tcp_ok(e):
    try:
        return e.version_tcp()["ok"]
    except OSError:  # refused while the endpoint was full
        return False


def metrics_ok(e):
    try:
        return e.metrics_http()[0] == 200
    except OSError:
        return False


def closed_by_server(s):
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True


rng = random.Random(15)
hostile = [b"\xff\xfe", b"\x80", b'{"cmd": "\xff"}', b"\xed\xa0\x80", b'"' + b"\xfe" * 3000]
hostile += [bytes(rng.randrange(256) for _ in range(1024)).replace(b"\n", b" ") for _ in range(30)]

# --- Engine A: default timeouts -------------------------------------------------------------
a = engine("hostile")
check(a.version_unix()["engine"] == "quickstart", "the engine answers before the abuse")

# Invalid UTF-8 and random bytes: one JSON error each, on the same connection, which stays.
for name, s in (("unix", a.unix()), ("tcp", a.tcp())):
    with s:
        for line in hostile:
            s.sendall(line + b"\n")
            r = answer(s)
            check(r["ok"] is False and isinstance(r["error"], str), f"{name}: {line[:20]!r} → {r}")
        if name == "unix":
            check(ask(s, {"cmd": "version"})["ok"], "the Unix connection serves on after garbage")
check(a.version_unix()["engine"] == "quickstart", "Unix socket alive after the garbage")
check(a.version_tcp()["engine"] == "quickstart", "TCP alive after the garbage")
status, body = a.metrics_http()
check(status == 200 and "shoal_outputs_total" in body, "HTTP /metrics alive after the garbage")
r = run(["admin", "--socket", a.sock, "version"])
check(r.returncode == 0 and "quickstart" in r.stdout, r.stdout + r.stderr)

# HTTP: garbage gets 400, other paths 404, other methods 405; /metrics still answers.
for junk in (b"\xff\xfe\r\n\r\n", hostile[-1] + b"\r\n\r\n"):
    with a.http() as h:
        h.sendall(junk)
        check(h.recv(4096).startswith(b"HTTP/1.1 400"), "HTTP garbage gets 400")
with a.http() as h:
    h.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(h.recv(4096).startswith(b"HTTP/1.1 404"), "other paths get 404")
with a.http() as h:
    h.sendall(b"DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(h.recv(4096).startswith(b"HTTP/1.1 405"), "other methods get 405")
check(metrics_ok(a), "HTTP /metrics after garbage")

# More idle HTTP connections than the HTTP cap: the extra ones get 503; the admin endpoints
# answer.
hflood = [a.http() for _ in range(HTTP_CAP + 20)]
wait_for(lambda: len(answered(hflood)) >= 20, what="refusals past the HTTP cap")
check(all(s.recv(4096).startswith(b"HTTP/1.1 503") for s in answered(hflood)), "503 past the cap")
check(hflood[0] not in answered(hflood), "the first HTTP connections hold their slots")
check(run(["admin", "--socket", a.sock, "version"]).returncode == 0, "Unix during an HTTP flood")
check(a.version_tcp()["ok"], "TCP during an HTTP flood")
for s in hflood:
    s.close()
wait_for(lambda: metrics_ok(a), what="HTTP after its flood closed")

# More idle TCP connections than the TCP cap, no token needed: the extra ones are refused, and
# the Unix socket (its own cap) and HTTP still answer.
flood = [a.tcp() for _ in range(TCP_CAP + 20)]
wait_for(lambda: len(answered(flood)) >= 20, what="refusals past the TCP cap")
refused = [json.loads(read_line(s).decode("utf-8"))["error"] for s in answered(flood)]
check(len(refused) >= 20 and all("too many admin connections on the TCP port" in e for e in refused),
      f"{len(refused)} refused: {refused[:2]}")
check(flood[0] not in answered(flood), "the first connections hold their slots")
r = run(["admin", "--socket", a.sock, "version"])
check(r.returncode == 0 and "quickstart" in r.stdout, "shoal admin --socket during a TCP flood: "
      + r.stdout + r.stderr)
check(a.metrics_http()[0] == 200, "HTTP during a TCP flood")
for s in flood:
    s.close()
wait_for(lambda: version_tcp_ok(a), what="TCP admin after its flood closed")

# Wrong tokens: each answered later than the one before (100, 200, 400, 800, 1600 ms), the
# Unix socket served meanwhile, and one log line for the lot.
delays = []
for i in range(5):
    with a.tcp() as s:
        t0 = time.monotonic()
        s.sendall(json.dumps({"cmd": "version", "token": f"guess-{i}"}).encode() + b"\n")
        if i == 4:  # 1.6 s: plenty of time to be served on the Unix socket meanwhile
            check(a.version_unix()["ok"], "Unix socket during a token delay")
            s.setblocking(False)
            try:
                early = s.recv(1)
            except BlockingIOError:
                early = b""
            check(early == b"", "the bad token was answered before its delay")
            s.setblocking(True)
            s.settimeout(10)
        r = answer(s)
        delays.append(time.monotonic() - t0)
        check(r["error"] == "bad or missing token", r)
        check(closed_by_server(s), "a bad token closes the connection")
for i, (got, floor) in enumerate(zip(delays, [0.1, 0.2, 0.4, 0.8, 1.6])):
    check(got >= floor * 0.95, f"bad token {i} answered after {got:.3f} s, expected ≥ {floor} s")
with a.tcp() as s:
    t0 = time.monotonic()
    check(ask(s, {"cmd": "version", "token": TOKEN})["ok"], "the right token after failures")
    check(time.monotonic() - t0 < 1.6, "a right token is not delayed")
wait_for(lambda: any("bad or missing token on the TCP port from 127.0.0.1" in l for l in a.log),
           what="the bad-token log line")
token_lines = [l for l in a.log if "bad or missing token on the TCP port" in l]
check(len(token_lines) == 1, f"expected one rate-limited log line, got {token_lines}")
a.stop()

# --- Engine B: short idle timeouts ----------------------------------------------------------
b = engine("idle", 'admin_idle_timeout = "1s"\nmetrics_idle_timeout = "1s"\n')
t0 = time.monotonic()
idle = {"unix": b.unix(), "tcp": b.tcp(), "http": b.http()}
for name in ("unix", "tcp"):
    r = answer(idle[name])
    check("idle timeout" in r["error"], f"{name}: {r}")
    check(closed_by_server(idle[name]), f"{name}: closed after the idle timeout")
check(closed_by_server(idle["http"]), "http: closed after the idle timeout")
check(time.monotonic() - t0 >= 0.95, "closed before the idle timeout")
for s in idle.values():
    s.close()
# Idle means without a request: a client asking every 0.25 s keeps its connection.
with b.unix() as s:
    for _ in range(8):
        check(ask(s, {"cmd": "version"})["ok"], "an active connection outlives the idle timeout")
        time.sleep(0.25)  # the client's pace, not a wait for the engine
check(b.version_tcp()["ok"] and b.metrics_http()[0] == 200, "fresh connections after timeouts")
b.stop()

# Out-of-range timeouts are config errors.
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
bad = os.path.join(wd, "bad.toml")
open(bad, "w").write(text.replace('name = "quickstart"', 'name = "quickstart"\nadmin_idle_timeout = "5ms"'))
r = run(["plan", bad])
check(r.returncode == 2 and "admin_idle_timeout: must be in [100ms, 24h]" in r.stderr, r.stderr)
print("ok: hostile lines answered, caps held, idle connections closed, token delays",
      [round(d, 2) for d in delays])
