"""The engine the client package tests (test_python_client.py, test_node_client.py) talk to: a
fabricated 8-asset journal played live at 5 ms per bucket through log_return → zscore, with
publish, snapshot and tracked endpoints on free ports."""
import os
from types import SimpleNamespace

from harness import check, engine_config, free_port, journal_source, nodes_toml, run


def client_engine(wd, buckets=3000):
    feed = os.path.join(wd, "feed")
    r = run(["fabricate", "--seed", "11", "--assets", "8", "--buckets", str(buckets), "--out", feed])
    check(r.returncode == 0, r.stderr)
    snap, tracked = free_port(), free_port()
    cfg, pub = engine_config(
        wd, "clients", journal_source(feed, "5ms"),
        nodes_toml(("ret", "log_return", "market.scan"), ("z", "zscore", "ret", "window = 20")),
        engine=f'snapshot = "tcp://127.0.0.1:{snap}"\npublish_tracked = "tcp://127.0.0.1:{tracked}"',
        file_name="engine")
    data = os.path.join(wd, "data")
    return SimpleNamespace(config=cfg, data=data, socket=os.path.join(data, "shoal.sock"),
                           pub=f"tcp://127.0.0.1:{pub}", snapshot=f"tcp://127.0.0.1:{snap}",
                           tracked=f"tcp://127.0.0.1:{tracked}")
