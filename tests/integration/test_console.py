"""Console issue, acceptance 1: the operator console in a real browser (Debian's chromium,
headless, driven by playwright-core): the page loads, the DAG shows every node of blue with its
edges and live states, a node's page draws its last outputs, window heat map and compute-time
histogram, and clicking Pause makes the node PAUSED on the admin socket. The screenshot is kept
as a test artifact (build/test-artifacts/console.png). Also: with an admin_token the API
refuses requests without it (401), and wrong methods and commands get clear answers."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from harness import SHOAL, SOURCE_DIR, check, free_port, start, wait_for, workdir, wait_live

console_dir = os.path.join(SOURCE_DIR, "tests/console")
if not os.path.isdir(os.path.join(console_dir, "node_modules", "playwright-core")):
    # scripts/test installs it; a bare ctest run may not have.
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=console_dir, check=True,
                   capture_output=True, timeout=300)
check(shutil.which("chromium") or os.environ.get("CHROMIUM"), "no chromium (scripts/setup installs it)")

wd = workdir()
port, pub = free_port(), free_port()
TOKEN = "console-test-token-0123"
cfg = os.path.join(wd, "blue.toml")
text = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()
text, n = re.subn(r'publish = "tcp://127\.0\.0\.1:\d+"', f'publish = "tcp://127.0.0.1:{pub}"', text)
check(n == 1, "blue has one publish line")
text = re.sub(r'\n(publish_tracked|snapshot|metrics_http) = "[^"]*"', "", text)
text, n = re.subn(r'\nconsole = "[^"]*"', f'\nconsole = "127.0.0.1:{port}"', text)
text, m = re.subn(r'\nadmin_token = "[^"]*"', f'\nadmin_token = "{TOKEN}"', text)
check(n == 1 and m == 1, "blue enables the console, with a token")
open(cfg, "w").write(text)
data = os.path.join(wd, "data")
log = open(os.path.join(wd, "engine.log"), "w")
engine = start(["run", cfg, "--data", data, "--for", "60s"], stderr=log)
sock = os.path.join(data, "shoal.sock")
wait_live(sock)
base = f"http://127.0.0.1:{port}"


def get(path, method="GET", headers=None):
    try:
        req = urllib.request.Request(base + path, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def admin(cmd, **args):
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(1 << 16)
    s.close()
    return json.loads(buf)


AUTH = {"Authorization": f"Bearer {TOKEN}"}
status, body = get("/api/nodes")
check(status == 401 and "token" in body, f"no token: {status} {body}")
# Each refused token costs a delay that doubles (100 ms, 200 ms, 400 ms, ...) and its connection;
# `?token=` is taken for the live stream only.
began = time.monotonic()
status, body = get("/api/nodes", headers={"Authorization": "Bearer not-the-token-at-all"})
check(status == 401 and time.monotonic() - began >= 0.15, f"a second bad token: {status}, {time.monotonic() - began:.3f} s")
began = time.monotonic()
status, body = get(f"/api/nodes?token={TOKEN}")
check(status == 401 and time.monotonic() - began >= 0.3, f"?token= outside events: {status}, {time.monotonic() - began:.3f} s")
wait_for(lambda: "bad or missing token on the console" in open(os.path.join(wd, "engine.log")).read(),
         what="the refused token in the log")
status, body = get("/api/pause?node=z", headers=AUTH)
check(status == 405 and "pause takes POST" in body, f"GET pause: {status} {body}")
status, body = get("/api/nope", headers=AUTH)
check(status == 404 and "no console command" in body, f"unknown command: {status} {body}")
status, body = get("/")
check(status == 200 and "<title>shoal console</title>" in body, f"page: {status}")
# A page of another site, or a name that resolves here by DNS rebinding, gets nothing.
status, body = get("/api/pause?node=z", "POST", {"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"})
check(status == 403 and "other sites" in body, f"cross-site POST: {status} {body}")
status, body = get("/api/nodes", headers={"Authorization": f"Bearer {TOKEN}", "Host": f"evil.example:{port}"})
check(status == 403 and "127.0.0.1 or localhost" in body, f"foreign Host: {status} {body}")
status, body = get("/api/version", headers={"Authorization": f"Bearer {TOKEN}"})
check(status == 200 and json.loads(body)["ok"], f"with the token as a header: {status} {body}")
# The page asks `status` while the engine starts (only it and metrics answer then).
status, body = get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
check(status == 200 and json.loads(body)["state"] == "live", f"status: {status} {body}")
# A console without a token is a config error.
untokened = os.path.join(wd, "untokened.toml")
open(untokened, "w").write(re.sub(r'\nadmin_token = "[^"]*"', "", text))
r = subprocess.run([SHOAL, "plan", untokened], capture_output=True, text=True)
check(r.returncode == 2 and "console needs admin_token of at least 16 characters" in r.stderr, r.stderr)

graph = admin("graph")
names = sorted(n["names"][0] for n in graph["nodes"])
node = "sizing" if "sizing" in names else names[-1]
# Let every node fire a few buckets, so the page has outputs and compute times to draw.
wait_for(lambda: all(n["outputs"] > 3 for n in admin("nodes")["nodes"] if n["name"] == node),
         timeout=60, what=f"{node} to fire")
artifacts = os.path.join(os.path.dirname(os.path.abspath(SHOAL)), "test-artifacts")
os.makedirs(artifacts, exist_ok=True)
shot = os.path.join(artifacts, "console.png")
r = subprocess.run(["node", os.path.join(console_dir, "console_check.mjs"), f"{base}/?token={TOKEN}", node, shot],
                   capture_output=True, text=True, timeout=120, cwd=console_dir)
check(r.returncode == 0, f"the browser check failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
seen = json.loads(r.stdout.strip().splitlines()[-1])
check(not seen["errors"], f"errors in the page: {seen['errors']}")
check(sorted(n for n, _ in seen["nodes"]) == names, f"the DAG shows {sorted(n for n, _ in seen['nodes'])}, the graph has {names}")
check(all(s in ("WARMING", "RUNNING", "PAUSED", "FAILED", "BLOCKED") for _, s in seen["nodes"]),
      f"every node coloured by its state: {seen['nodes']}")
edges = sum(len(n["inputs"]) for n in graph["nodes"])
check(seen["edges"] == edges, f"{seen['edges']} edges drawn, the graph has {edges}")
check({"id", "kind", "params", "inputs", "counters"} <= set(seen["facts"]), f"node page facts: {seen['facts']}")
check(seen["boxState"] == "PAUSED", f"the node's box after Pause: {seen['boxState']}")
check(re.fullmatch(r"in \d+/s · out [1-9]\d*/s", seen["rate"]), f"the node's box shows its rates: {seen['rate']!r}")
answer = admin("inspect", node=node)
check(answer["state"] == "PAUSED", f"the admin socket says {node} is {answer['state']} after clicking Pause")
check(os.path.getsize(shot) > 10_000, "the screenshot was saved")
admin("resume", node=node)
engine.terminate()
engine.wait(timeout=30)
print(f"ok: {len(names)} nodes and {edges} edges in the browser; Pause paused {node}; screenshot {shot}")
