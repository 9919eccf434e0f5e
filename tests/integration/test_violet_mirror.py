"""Mirror issue acceptance 1 and 3, and read-only by construction: the primary (blue) and the
mirror run as two processes on loopback; the mirror starts 200 buckets after the primary, warms
up from the primary's snapshot endpoint, and its sizing_mirror equals the primary's sizing
byte for byte on every common bucket, for at least 1000 consecutive buckets. A mirror config
that would publish on one of the primary's topics is a config error.

Both engines run with CURVE (issue 18): blue lets in the mirror's key only, the mirror's zmq
source presents it with blue's public key (live and for the snapshot catch-up), and the mirror's
own endpoints are CURVE servers too."""
import os
import re
import subprocess
import time

from harness import SHOAL, SOURCE_DIR, check, check_parity, free_port, run, workdir, free_http, with_ports

wd = workdir()
pub, snap, mpub, msnap = (free_port() for _ in range(4))
keys = os.path.join(wd, "keys")
for name in ("blue", "violet", "desk"):
    check(run(["keys", "gen", name, "--out", keys]).returncode == 0, f"keys gen {name}")
for engine, client in (("blue", "violet"), ("violet", "desk")):
    os.makedirs(os.path.join(keys, engine + "-clients"))
    os.rename(os.path.join(keys, client + ".key"), os.path.join(keys, engine + "-clients", client + ".key"))
blue_key = run(["keys", "show", os.path.join(keys, "blue.key_secret")]).stdout.strip()


def curve(engine):
    return (f'curve = {{ secret_key_file = "{keys}/{engine}.key_secret", '
            f'allowed_clients = "{keys}/{engine}-clients" }}')


blue = open(os.path.join(SOURCE_DIR, "scenarios/blue/graph.toml")).read()
blue = blue.replace('[engine]\n', '[engine]\n' + curve("blue") + '\n', 1)
blue = free_http(blue)
blue = with_ports(blue, {5560: pub, 5561: snap})
os.makedirs(os.path.join(wd, "blue"))
os.makedirs(os.path.join(wd, "violet_mirror"))
open(os.path.join(wd, "blue", "graph.toml"), "w").write(blue)
mirror = open(os.path.join(SOURCE_DIR, "scenarios/violet_mirror/mirror.toml")).read()
for old, new in (("5560", pub), ("5561", snap), ("5570", mpub), ("5571", msnap)):
    mirror = mirror.replace(f"tcp://127.0.0.1:{old}", f"tcp://127.0.0.1:{new}")
mirror = mirror.replace('[engine]\n', '[engine]\n' + curve("violet") + '\n', 1)
mirror = mirror.replace('kind = "zmq"\n', 'kind = "zmq"\n' + f'curve = {{ secret_key_file = "{keys}/violet.key_secret", '
                        f'server_key = "{blue_key}" }}\n', 1)
mirror_cfg = os.path.join(wd, "violet_mirror", "mirror.toml")
open(mirror_cfg, "w").write(mirror)

# Read-only by construction: a node named after a primary topic is refused before starting.
bad_cfg = os.path.join(wd, "violet_mirror", "bad.toml")
open(bad_cfg, "w").write(mirror.replace('name = "sizing_mirror"', 'name = "posture"'))
r = run(["plan", bad_cfg])
check(r.returncode == 2, f"a mirror publishing on a primary topic must be a config error: {r.stderr}")
check(re.search(r"bad\.toml:\d+: node\.posture\.name: would publish on topic \"posture\"", r.stderr), r.stderr)
same_ep = os.path.join(wd, "violet_mirror", "same_endpoint.toml")
open(same_ep, "w").write(mirror.replace(f'publish = "tcp://127.0.0.1:{mpub}"', f'publish = "tcp://127.0.0.1:{pub}"'))
r = run(["plan", same_ep])
check(r.returncode == 2 and "is an endpoint of the engine this config mirrors" in r.stderr, r.stderr)

primary_dir, mirror_dir = os.path.join(wd, "primary"), os.path.join(wd, "mirror")
primary = subprocess.Popen([SHOAL, "run", os.path.join(wd, "blue", "graph.toml"), "--for", "34s",
                            "--data", primary_dir], stderr=subprocess.PIPE, text=True)
time.sleep(4.0)  # 200 buckets at 20 ms
m = run(["run", mirror_cfg, "--for", "29s", "--data", mirror_dir])
p_err = primary.communicate(timeout=60)[1]
check(primary.returncode == 0, p_err)
check(m.returncode == 0, m.stderr)
check(re.search(r"caught up [1-9]\d* outputs", m.stderr),
      f"the late mirror did not warm up from the snapshot: {m.stderr}")
check("refused" not in p_err and "handshake" not in m.stderr, f"{p_err[-400:]}\n{m.stderr[-400:]}")

p = run(["parity", primary_dir, mirror_dir, "--pair", "sizing=sizing_mirror"])
check(p.returncode == 0, f"mirror sizing differs from primary sizing:\n{p.stdout}")
both = int(re.search(r"(\d+) in both", p.stdout).group(1))
longest = int(re.search(r"longest run of identical buckets: (\d+)", p.stdout).group(1))
check(longest >= 1000 and longest == both, p.stdout)
# The mirror joined late but caught up: its sizing starts well before the moment it joined.
check(both > 1200, f"only {both} common buckets:\n{p.stdout}")
print("ok:", p.stdout.strip().splitlines()[1])

# Acceptance 5: replaying each engine's recorded journal into its graph gives the same parity.
p_replay, m_replay = os.path.join(wd, "primary.replay"), os.path.join(wd, "mirror.replay")
check(run(["replay", primary_dir, "--out", p_replay]).returncode == 0, "primary replay")
check(run(["replay", mirror_dir, "--out", m_replay]).returncode == 0, "mirror replay")
pr = run(["parity", p_replay, m_replay, "--pair", "sizing=sizing_mirror"])
check(pr.returncode == 0, pr.stdout)
check(pr.stdout == p.stdout, f"replayed parity differs from live:\nlive:\n{p.stdout}\nreplay:\n{pr.stdout}")
check_parity(primary_dir, p_replay, "primary replay against primary live", min_outputs=None)
check_parity(mirror_dir, m_replay, "mirror replay against mirror live", min_outputs=None)
print("ok: replayed parity equals live parity")
