"""Cluster mode across an untrusted network (issue 14, docs/cluster.md "Across real hosts"): a real
3-server JetStream cluster that requires TLS with client certificates and a user's password, on
clients and routes alike (scripts/cluster up --secure). An engine whose [cluster] names the CA,
its certificate and key, the user and a password file replicates its journal; `shoal replay
--cluster-config` reads it back with the same settings and gives parity with the live outputs.
Each missing or wrong credential is refused with a message that says which; a secret file open to
others is refused before it is read, and a password written in the config is refused.
Then decentralised auth: a nats-server in operator mode (JWT accounts) and an engine whose
[cluster] credentials_file is a user's .creds file; a user of an account the server does not
know is refused."""
import atexit
import os
import re
import signal
import subprocess

import nats_jwt

from cluster_harness import cluster_engine_config, cluster_state, local_cluster
from harness import check, check_parity, free_port, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd, servers=3, secure=True)
lines = cluster.lines
check(cluster.servers_line.count("tls://127.0.0.1:") == 3, f"scripts/cluster up --secure: {lines}")
check("cert_file" in lines and "password_file" in lines, f"scripts/cluster up --secure: {lines}")
cfg, _ = cluster_engine_config(wd, "engine", "s1", f'{lines}\nengine_id = "s1"\nreplicas = 3')
data = os.path.join(wd, "data")

engine = start(["run", cfg, "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wait_for(lambda: cluster_state(data).get("replicated", 0) >= 500, timeout=40,
         what="500 journal records replicated over TLS")
state = cluster_state(data)
check(state.get("connected", "").startswith("tls://127.0.0.1:"), f"admin cluster: {state}")
engine.send_signal(signal.SIGINT)
_, err = engine.communicate(timeout=60)
check(engine.returncode == 0, f"the engine did not stop cleanly: {err}")
check("not in the cluster yet" not in err, f"the stop left records behind: {err}")

# Read the journal back with the engine's own [cluster] settings, and replay it.
pulled, replayed = os.path.join(wd, "pulled"), os.path.join(wd, "replayed")
r = run(["replay", "--cluster-config", cfg, pulled, "--out", replayed])
check(r.returncode == 0, f"replay --cluster-config: {r.stderr}")
check(re.search(r"copied \d+ journal records of engine s1 from stream SHOAL", r.stderr), r.stderr)
check(run(["export", pulled, "--journal"]).stdout == run(["export", data, "--journal"]).stdout,
      "the cluster's journal is not the data dir's")
check_parity(data, replayed, "live outputs against a replay of the journal read over TLS", min_outputs=20)

# The same servers without trusting their CA, or with missing or wrong credentials: refused,
# and said so.
r = run(["replay", "--cluster", cluster.urls, "--engine-id", "s1", os.path.join(wd, "bare")], timeout=60)
check(r.returncode == 2 and "cannot connect to the NATS cluster" in r.stderr and "SSL handshake error" in r.stderr,
      f"a client that does not trust the servers' CA: {r.returncode} {r.stderr}")
text = open(cfg).read()


def run_with(name, old, new):
    """Runs the engine for 1 s on a copy of its config with OLD replaced by NEW."""
    check(old in text, f"{old!r} is not in the config")
    path = os.path.join(wd, f"{name}.toml")
    open(path, "w").write(text.replace(old, new))
    return run(["run", path, "--data", os.path.join(wd, f"{name}-data"), "--for", "1s"], timeout=90)


password_file = re.search(r'password_file = "([^"]+)"', lines).group(1)
no_password = os.path.join(wd, "no-password.toml")
without_password = re.sub(r'user = .*\npassword_file = .*\n', "", text)
check(without_password != text and "password" not in without_password, without_password)
open(no_password, "w").write(without_password)
r = run(["run", no_password, "--data", os.path.join(wd, "no-password-data"), "--for", "1s"], timeout=90)
check(r.returncode != 0 and "Authorization Violation" in r.stderr and "tls.cert_file" not in r.stderr,
      f"a certificate but no password: {r.returncode} {r.stderr}")
wrong = os.path.join(wd, "wrong-password")
with open(os.open(wrong, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write("not-the-password\n")
r = run_with("wrong", password_file, wrong)
check(r.returncode != 0 and "cannot connect to the NATS cluster" in r.stderr and "Authorization Violation" in r.stderr,
      f"a wrong password: {r.returncode} {r.stderr}")

no_cert = re.sub(r'tls = \{[^}]*\}', f'tls = {{ ca_file = "{cluster.dir}/tls/ca.pem" }}', text)
check(no_cert != text, "no tls line to replace")
path = os.path.join(wd, "no-cert.toml")
open(path, "w").write(no_cert)
r = run(["run", path, "--data", os.path.join(wd, "no-cert-data"), "--for", "1s"], timeout=90)
check(r.returncode != 0 and "cannot connect to the NATS cluster" in r.stderr and "tls.cert_file" in r.stderr,
      f"no client certificate: {r.returncode} {r.stderr}")

# A CA that did not sign the servers' certificate: the handshake fails and says why.
other_ca = os.path.join(wd, "other-ca")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", other_ca + ".key", "-out", other_ca + ".pem", "-days", "1", "-subj", "/CN=other"],
               check=True, capture_output=True)
r = run_with("other-ca", f"{cluster.dir}/tls/ca.pem", other_ca + ".pem")
check(r.returncode != 0 and "SSL handshake error" in r.stderr, f"another CA: {r.returncode} {r.stderr}")

# A password file anyone may read is refused before it is read, naming the chmod that mends it.
open_file = os.path.join(wd, "open-password")
open(open_file, "w").write(open(password_file).read())
os.chmod(open_file, 0o644)
r = run_with("open", password_file, open_file)
check(r.returncode != 0 and open_file in r.stderr and f"chmod 600 {open_file}" in r.stderr,
      f"a password file open to others: {r.returncode} {r.stderr}")

# The password itself in the config: refused at load, naming the field.
r = run_with("inline", f'password_file = "{password_file}"', 'password = "hunter2"')
check(r.returncode == 2 and "cluster.password" in r.stderr and "in a file" in r.stderr,
      f"a password in the config: {r.returncode} {r.stderr}")

# Decentralised auth: an operator, an account with JetStream, a user's .creds file.
creds = nats_jwt.mint(os.path.join(wd, "jwt"))
port = free_port()
server_conf = os.path.join(wd, "jwt", "server.conf")
open(server_conf, "w").write(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{wd}/jwt/js" }}\n'
                             f'include "auth.conf"\n')
server = subprocess.Popen(["nats-server", "-c", server_conf, "-l", os.path.join(wd, "jwt", "server.log")])
atexit.register(server.kill)
jwt_cfg, _ = cluster_engine_config(wd, "jwt-engine", "j1", f'servers = ["nats://127.0.0.1:{port}"]\n'
                                   f'credentials_file = "{creds}"\nengine_id = "j1"\nreplicas = 1')
jwt_run = []


def engine_ran():  # the server takes a moment to start listening
    jwt_run[:] = [run(["run", jwt_cfg, "--data", os.path.join(wd, "jwt-data"), "--for", "2s"], timeout=90)]
    return jwt_run[0].returncode == 0 or "cannot connect" not in jwt_run[0].stderr


wait_for(engine_ran, timeout=30, what="the engine running on the operator-mode server")
r = jwt_run[0]
check(r.returncode == 0 and "cluster: journal of engine j1 goes to stream SHOAL" in r.stderr,
      f"an engine with a .creds file: {r.returncode} {r.stderr}")
r = run(["replay", "--cluster-config", jwt_cfg, os.path.join(wd, "jwt-pulled"), "--digest"])
check(r.returncode == 0 and re.search(r"copied [1-9]\d* journal records of engine j1", r.stderr),
      f"replay --cluster-config with a .creds file: {r.stderr}")
stranger = nats_jwt.mint(os.path.join(wd, "jwt-other"))  # another operator's account and user
path = os.path.join(wd, "stranger.toml")
open(path, "w").write(open(jwt_cfg).read().replace(creds, stranger))
r = run(["run", path, "--data", os.path.join(wd, "stranger-data"), "--for", "1s"], timeout=90)
check(r.returncode != 0 and "cannot connect to the NATS cluster" in r.stderr and "Authorization Violation" in r.stderr,
      f"a user of an unknown account: {r.returncode} {r.stderr}")
print("ok")
