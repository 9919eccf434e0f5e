"""Admin issue: every command through the real Unix socket (mode 0600) and loopback TCP with a
token; malformed JSON, unknown commands, a 2 MiB line, a client that never reads and 100
concurrent clients each get a clear answer while the engine keeps publishing; metrics parse as
Prometheus text (python3-prometheus-client), also over HTTP; pausing a node for 50 buckets and
resuming delivers those buckets in order, equal to an unpaused run."""
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import SHOAL, SOURCE_DIR, check, free_port, run, wait_for, wait_live, workdir

TOKEN = "s3cret-token-0123456789"
wd = workdir()


def config(name, pace="10ms", extra=""):
    text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
    text = text.replace('publish = "tcp://127.0.0.1:5556"', f'publish = "tcp://127.0.0.1:{free_port()}"' + extra)
    text = text.replace('pace = "50ms"', f'pace = "{pace}"')
    path = os.path.join(wd, name + ".toml")
    open(path, "w").write(text)
    return path


tcp_port, http_port, tracked_port = free_port(), free_port(), free_port()
cfg = config("admin", extra=f'\nadmin_tcp = "127.0.0.1:{tcp_port}"\nadmin_token = "{TOKEN}"\n'
                            f'metrics_http = "127.0.0.1:{http_port}"\n'
                            f'publish_tracked = "tcp://127.0.0.1:{tracked_port}"')
data = os.path.join(wd, "data")
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "30s", "--data", data], stderr=subprocess.PIPE, text=True)
sock_path = os.path.join(data, "shoal.sock")
for _ in range(100):
    if os.path.exists(sock_path):
        break
    time.sleep(0.05)
check(os.path.exists(sock_path), "no admin socket")
wait_live(sock_path)
check(stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600, f"socket mode {oct(os.stat(sock_path).st_mode)}")


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    return s


def ask(req, s=None):
    own = s is None
    s = s or connect()
    s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    if own:
        s.close()
    return json.loads(buf)


# A tracked subscriber (shoal tail --track) for the `subscribers` command.
watcher = subprocess.Popen([SHOAL, "tail", f"tcp://127.0.0.1:{tracked_port}", "z", "--track", "watcher",
                            "--for", "20s"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
# Connected once its subscription is listed and z has sent it something; and z has made the 3
# outputs `outputs` asks for below.
wait_for(lambda: any(x["name"] == "watcher" and x["sent"] > 0 for x in ask({"cmd": "subscribers"})["subscribers"]),
         timeout=20, what="the tracked subscriber connected")
wait_for(lambda: len(ask({"cmd": "outputs", "node": "z", "n": 3})["outputs"]) == 3, timeout=20,
         what="z's first 3 outputs")
r = ask({"cmd": "help"})
check(r["ok"], r)
names = {c["cmd"] for c in r["commands"]}
check(names == {"help", "version", "status", "graph", "nodes", "inspect", "window", "pause", "resume", "metrics",
                "strategies", "submit", "remove", "restart", "checkpoint", "config", "log-level",
                "subscribers", "explain", "reload-keys", "outputs", "cluster", "move"}, names)
# A move needs a placed engine: refused here, saying so.
moved = ask({"cmd": "move", "node": "z", "to": "elsewhere"})
check(not moved["ok"] and "only the active process of a placed engine" in moved["error"], moved)
outs = ask({"cmd": "outputs", "node": "z", "n": 3})
check(outs["ok"] and [o["node"] for o in outs["outputs"]] == ["z"] * 3
      and [o["seq"] for o in outs["outputs"]] == list(range(outs["outputs"][0]["seq"], outs["outputs"][0]["seq"] + 3)),
      f"outputs: the last 3, oldest first: {outs}")
bad = ask({"cmd": "outputs", "node": "z", "n": 5000})
check(not bad["ok"] and "from 1 to 1000" in bad["error"], bad)
check(ask({"cmd": "version"})["engine"] == "quickstart", "version")
g = ask({"cmd": "graph"})
check(len(g["nodes"]) == 5 and g["distinct"] == 3, g)
nodes = {n["name"]: n for n in ask({"cmd": "nodes"})["nodes"]}
check(set(nodes) == {"market.scan", "market.ob", "ret", "ema", "z"}, nodes)
ins = ask({"cmd": "inspect", "node": "z"})
for key in ("id", "kind", "kind_version", "params", "inputs", "names", "state", "counters", "last_output",
            "mailbox", "window_bytes"):
    check(key in ins, f"inspect lacks {key}: {ins}")
check(ins["params"] == {"window": 20} and ins["inputs"] == [{"port": "in", "upstream": "ret"}], ins)
check(ins["state"] == "RUNNING" and ins["counters"]["outputs"] > 0 and ins["window_bytes"] > 0, ins)
win = ask({"cmd": "window", "node": "z"})
check(len(win["inputs"]) == 1 and len(win["inputs"][0]["slots"]) == 20, "z's window holds 20 slots")
check(all("t" in s and "v" in s for s in win["inputs"][0]["slots"]), "slots are {t, v}")
text = ask({"cmd": "metrics"})["text"]
families = {f.name: f for f in text_string_to_metric_families(text)}
for m in ("shoal_events_in", "shoal_outputs", "shoal_window_resident_bytes", "shoal_node_compute_seconds",
          "shoal_journal_commit_seconds", "shoal_reuse_ratio", "shoal_actors_alive", "shoal_published"):
    check(m in families, f"metric {m} missing: {sorted(families)}")
# The live path's latency, stage by stage (hot-path issue, acceptance 4): every stage has seen input
# by now, each a histogram with the same bounds.
lat = [x for x in families["shoal_latency_seconds"].samples if x.name == "shoal_latency_seconds_count"]
check(sorted(x.labels["stage"] for x in lat) == ["encode", "fire", "ingest", "send"], lat)
check(all(x.value > 0 for x in lat), f"a stage saw nothing: {lat}")
subs = ask({"cmd": "subscribers"})
check(subs["endpoint"] == f"tcp://127.0.0.1:{tracked_port}", subs)
check([(s["name"], s["topics"], s["connected"], s["dropped"]) for s in subs["subscribers"]]
      == [("watcher", ["z"], True, 0)] and subs["subscribers"][0]["sent"] > 0, subs)
sent = families["shoal_subscriber_sent"].samples
check([(x.labels, x.value > 0) for x in sent] == [({"subscriber": "watcher"}, True)], sent)
check("shoal_subscriber_dropped" in families and families["shoal_subscribers_connected"].samples[0].value == 1,
      "subscriber metrics")
check(ask({"cmd": "config"})["main"] == "admin.toml", "config")
check(ask({"cmd": "cluster"}).get("enabled") is False, "cluster: off without [cluster]")
check(ask({"cmd": "strategies"})["ok"], "strategies")
check(ask({"cmd": "log-level", "level": "warn"})["level"] == "warn", "log-level")
check(not ask({"cmd": "log-level", "level": "loud"})["ok"], "a bad log level is refused")
r = ask({"cmd": "submit", "file": "missing.toml"})
check(not r["ok"] and "missing.toml: no such file" in r["error"], r)
# submit reads only regular files under the config's directory (hostile-inputs issue, item 5).
for path in ("/etc/shadow", "../../etc/passwd", "/proc/self/environ", ""):
    r = ask({"cmd": "submit", "file": path})
    check(not r["ok"] and "config's directory" in r["error"], f"{path!r}: {r}")
os.mkfifo(os.path.join(wd, "fifo.toml"))
r = ask({"cmd": "submit", "file": "fifo.toml"})
check(not r["ok"] and "not a regular file" in r["error"], f"a FIFO: {r}")
r = ask({"cmd": "submit", "text": "[strategy\nname = "})
check(not r["ok"] and "TOML syntax error" in r["error"], r)
r = ask({"cmd": "remove", "strategy": "ghost"})
check(not r["ok"] and "no strategy \"ghost\"" in r["error"], r)
r = ask({"cmd": "remove", "strategy": ""})
check(not r["ok"] and "strategy" in r["error"], f"remove with an empty name: {r}")
check(len(ask({"cmd": "nodes"})["nodes"]) > 0, "nothing was removed")

# Bad requests get clear errors.
check("malformed JSON" in ask("{not json")["error"], "malformed JSON")
check("unknown command" in ask({"cmd": "frobnicate"})["error"], "unknown command")
check("no node named" in ask({"cmd": "inspect", "node": "nope"})["error"], "unknown node")
big = connect()
big.sendall(b'{"cmd": "help", "pad": "' + b"x" * (2 << 20) + b'"}\n')
r = json.loads(big.recv(1 << 16).split(b"\n")[0])
check("exceeds" in r["error"], r)
check(big.recv(1 << 16) == b"", "the connection is closed after an oversized line")
big.close()

# A client that sends requests and never reads, and 100 concurrent clients.
lazy = connect()
lazy.setblocking(False)
for _ in range(2000):
    try:
        lazy.send(b'{"cmd": "metrics"}\n')
    except BlockingIOError:
        break
before = {n["name"]: n["outputs"] for n in ask({"cmd": "nodes"})["nodes"]}
answers = []
def client():
    answers.append(ask({"cmd": "version"}))
threads = [threading.Thread(target=client) for _ in range(100)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(len(answers) == 100 and all(a["ok"] for a in answers), "100 concurrent clients")
def z_outputs():
    return {n["name"]: n["outputs"] for n in ask({"cmd": "nodes"})["nodes"]}["z"]
wait_for(lambda: z_outputs() > before["z"], timeout=10, what="the engine publishing while clients misbehave")
lazy.close()

# TCP: the token is required; without it, an error and the connection is closed.
t = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
t.sendall(b'{"cmd": "version"}\n')
check("token" in json.loads(t.recv(4096))["error"], "no token refused")
check(t.recv(4096) == b"", "connection closed after a bad token")
t = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
t.sendall(json.dumps({"cmd": "version", "token": TOKEN}).encode() + b"\n")
check(json.loads(t.recv(4096))["ok"], "token accepted")
body = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read().decode()
check("shoal_outputs_total" in body and list(text_string_to_metric_families(body)), "HTTP metrics")

# The CLI client.
r = run(["admin", "--socket", sock_path, "nodes"])
check(r.returncode == 0 and "market.scan" in r.stdout and "RUNNING" in r.stdout, r.stdout + r.stderr)
r = run(["admin", "--socket", sock_path, "subscribers"])
check(r.returncode == 0 and r.stdout.splitlines()[1].split()[:2] == ["watcher", "true"], r.stdout)
r = run(["admin", "--socket", sock_path, "help"])
check(r.returncode == 0 and "inspect" in r.stdout, r.stdout)
r = run(["admin", "--socket", sock_path, "--json", "inspect", "ret"])
check(json.loads(r.stdout)["kind"] == "log_return", r.stdout)
# Every command reads as text without --json: key/value lines, lists of objects as tables.
r = run(["admin", "--socket", sock_path, "inspect", "ret"])
check(r.returncode == 0 and not r.stdout.startswith("{") and
      re.search(r"^kind +log_return$", r.stdout, re.M) and re.search(r"^inputs:$", r.stdout, re.M),
      r.stdout)
r = run(["admin", "--socket", sock_path, "outputs", "z", "2"])
lines = r.stdout.splitlines()
check(r.returncode == 0 and lines[0].split() == ["seq", "bucket", "value"] and len(lines) == 3
      and re.match(r"^\d+ +2026-01-01T\d\d:\d\d:\d\dZ +\{", lines[1]), r.stdout + r.stderr)
r = run(["admin", "--socket", sock_path, "graph"])
check(r.returncode == 0 and re.search(r"^names +id +kind +pass +period +inputs", r.stdout, re.M) and
      re.search(r"^z +[0-9a-f]{12} +zscore +2 +20 +in=ret", r.stdout, re.M), r.stdout)
r = run(["admin", "--socket", sock_path, "strategies"])
check(r.returncode == 0 and r.stdout.startswith("no strategies"), r.stdout)
# The socket found from the engine's config ([engine] data here; its admin key would win).
found = os.path.join(wd, "found.toml")
open(found, "w").write(re.sub(r'data = ".*"', f'data = "{data}"', open(cfg).read()))
r = run(["admin", "--config", found, "version"])
check(r.returncode == 0 and re.search(r"^engine +quickstart$", r.stdout, re.M), r.stdout + r.stderr)
r = run(["admin", "--config", os.path.join(wd, "missing.toml"), "version"])
check(r.returncode == 2 and "config error" in r.stderr, r.stderr)

# Enough of z's outputs before the pause for the comparison with a plain run below.
wait_for(lambda: z_outputs() >= 200, timeout=30, what="z's first 200 outputs")
# Pause z for about 50 buckets (10 ms each), then resume.
check(ask({"cmd": "pause", "node": "z"})["paused"] == ["z"], "pause")
time.sleep(0.6)
check(ask({"cmd": "inspect", "node": "z"})["state"] == "PAUSED", "paused state")
held = ask({"cmd": "inspect", "node": "z"})["counters"]["held"]
check(held >= 40, f"held only {held} inputs")
check(ask({"cmd": "resume", "node": "z"})["resumed"] == ["z"], "resume")
watcher.terminate()
watcher.wait(timeout=10)
engine.terminate()
err = engine.communicate(timeout=30)[1]
check(engine.returncode == 0, err)

# The same feed without a pause: z's outputs are identical, seq for seq.
plain = config("plain")
check(run(["run", plain, "--for", "6s", "--data", os.path.join(wd, "plain")]).returncode == 0, "plain run")
def outputs(d):
    return {(o["bucket"], o["seq"]): o["value"] for o in map(json.loads, run(["export", d, "--outputs"]).stdout.splitlines())
            if o["node"] == "z"}
a, b = outputs(data), outputs(os.path.join(wd, "plain"))
common = set(a) & set(b)
check(len(common) > 150, f"{len(common)} common outputs")
check(all(a[k] == b[k] for k in common), "paused run differs from unpaused run")
seqs = sorted(s for _, s in a)
check(seqs == list(range(1, len(seqs) + 1)), "seqs contiguous across the pause")
print("ok:", len(common), "z outputs equal across pause/resume; held", held)
