"""The engine the client package tests (test_python_client.py, test_node_client.py) talk to: a
fabricated 8-asset journal played live at 5 ms per bucket through log_return → zscore, with
publish, snapshot and tracked endpoints on free ports."""
import os
from types import SimpleNamespace

from harness import check, free_port, run


def client_engine(wd, buckets=3000):
    feed = os.path.join(wd, "feed")
    r = run(["fabricate", "--seed", "11", "--assets", "8", "--buckets", str(buckets), "--out", feed])
    check(r.returncode == 0, r.stderr)
    pub, snap, tracked = free_port(), free_port(), free_port()
    cfg = os.path.join(wd, "engine.toml")
    open(cfg, "w").write(f"""
[engine]
name = "clients"
publish = "tcp://127.0.0.1:{pub}"
snapshot = "tcp://127.0.0.1:{snap}"
publish_tracked = "tcp://127.0.0.1:{tracked}"

[[source]]
name = "market"
kind = "journal"
path = "{feed}"
pace = "5ms"

[[node]]
name = "ret"
kind = "log_return"
inputs = {{ in = "market.scan" }}

[[node]]
name = "z"
kind = "zscore"
inputs = {{ in = "ret" }}
params = {{ window = 20 }}
""")
    data = os.path.join(wd, "data")
    return SimpleNamespace(config=cfg, data=data, socket=os.path.join(data, "shoal.sock"),
                           pub=f"tcp://127.0.0.1:{pub}", snapshot=f"tcp://127.0.0.1:{snap}",
                           tracked=f"tcp://127.0.0.1:{tracked}")
