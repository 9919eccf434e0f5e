"""Cluster mode: a hole in an engine's journal in the stream. A batch the cluster stored in part (a
leader change lost one record of it) is sent again within a second; when the engine's host is lost
before that, the record is lost with it. The test makes such a hole by deleting a journal record
from the middle of the stream after the engine stopped, then starts the engine's config on an
empty dir (a new host), which holds the lease while it takes the journal from the cluster:
  - `replay --cluster` before that stops at the hole, naming the record and who fills it;
  - the new host records the missing record as lost (a stand-in in the stream under its message
    id: a rejected record of no stream), says so, and goes on live;
  - its journal holds the stand-in there, and `replay --cluster` now reads the same journal, whose
    replay gives parity with the new host's outputs."""
import base64
import json
import os
import re
import time
from datetime import datetime

from cluster_harness import cluster_engine_config, local_cluster, nats_request
from harness import check, check_parity, run, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd, servers=1)
# Without checkpoints in the cluster: the new host computes the whole journal.
# A short duplicate window: the stream remembers a deleted record's message id for that long (a
# record lost at a leader change was never stored, so nothing remembers its id).
cfg, _ = cluster_engine_config(wd, "h", "h1", f'{cluster.servers_line}\nreplicas = 1\ncheckpoints = false\n'
                               'duplicate_window = "1s"')
r = run(["run", cfg, "--data", os.path.join(wd, "lost"), "--for", "3s"], timeout=60)
check(r.returncode == 0, f"the first engine: {r.stderr}")


def api(call, request):
    return nats_request(cluster.base, f"$JS.API.{call}.SHOAL", json.dumps(request).encode() if request else b"")


# A journal record of h1 from the middle of the stream (its config message is there too).
last = api("STREAM.INFO", None)["state"]["last_seq"]
check(last > 200, f"only {last} messages in the stream")
seq = last // 2
while (got := api("STREAM.MSG.GET", {"seq": seq}))["message"]["subject"] != "shoal.in.h1":
    seq += 1
k = int(re.search(r"Nats-Msg-Id: h1:(\d+)", base64.b64decode(got["message"]["hdrs"]).decode()).group(1))
check(api("STREAM.MSG.DELETE", {"seq": seq, "no_erase": True}).get("success"), "the record was not deleted")
stored_at = datetime.fromisoformat(got["message"]["time"][:26].rstrip("Z") + "+00:00").timestamp()

r = run(["replay", "--cluster", cluster.urls, "--engine-id", "h1", os.path.join(wd, "before")])
check(r.returncode != 0 and f"lacks journal record {k} of engine h1" in r.stderr
      and "the next process to take the engine's lease records it as lost" in r.stderr,
      f"replay --cluster over the hole: {r.returncode} {r.stderr}")

new = os.path.join(wd, "new")
wait_for(lambda: time.time() > stored_at + 1.5, timeout=10, what="the duplicate window past the deleted record")
r = run(["run", cfg, "--data", new, "--for", "2s"], timeout=60)
check(r.returncode == 0, f"the new host did not go on past the hole: {r.stderr}")
check(f"lacked 1 journal record(s) of engine h1 ({k}) below records it holds" in r.stderr
      and "1 of them recorded in the stream as lost" in r.stderr, f"the new host did not say so: {r.stderr}")
journal = run(["export", new, "--journal"]).stdout.splitlines()
check(len(journal) > k + 100, f"the new host's journal has {len(journal)} records")
check(f"lost: journal record {k} of engine h1" in journal[k - 1], f"record {k}: {journal[k - 1]}")
check(all("lost: journal record" not in line for i, line in enumerate(journal) if i != k - 1),
      "a stand-in elsewhere in the journal")

pulled, replayed = os.path.join(wd, "pulled"), os.path.join(wd, "replayed")
r = run(["replay", "--cluster", cluster.urls, "--engine-id", "h1", pulled, "--out", replayed])
check(r.returncode == 0, f"replay --cluster after the stand-in: {r.stderr}")
check(run(["export", pulled, "--journal"]).stdout.splitlines() == journal,
      "the stream's journal is not the new host's")
check_parity(new, replayed, "the new host's outputs against a replay of the stream's journal", min_outputs=100)
print("ok")
