"""Cluster mode, [cluster] stream_outputs: a hole in a node's subject. A batch of outputs the
cluster stored in part (a leader change lost one of them) is sent again within seconds; when the
process stops or dies before that, the seq stays missing below the subject's end. The test makes
such a hole by deleting an output near the end of z's subject after the engine stopped, then
starts the engine again on its dir: it finds the seq missing below the subject's end, sends it
from its own outputs under its own message id, says so, and counts it (admin `cluster`
outputs.filled). `shoal tail --from-stream` then prints every seq of z once, the filled one
after later ones (it says the gap, then that the seq "came late"), with the bytes the engine
stored."""
import base64
import json
import os
import re
import time
from datetime import datetime

from cluster_harness import cluster_engine_config, cluster_state, local_cluster, nats_request
from harness import check, run, start, wait_for, workdir

wd = workdir()
cluster = local_cluster(wd, servers=1)
# A short duplicate window: the stream remembers a deleted output's message id for that long (an
# output lost at a leader change was never stored, so nothing remembers its id).
cfg, _ = cluster_engine_config(wd, "o", "o1", f'{cluster.servers_line}\nreplicas = 1\ncheckpoints = false\n'
                               'stream_outputs = true\nduplicate_window = "1s"')
data = os.path.join(wd, "o")
r = run(["run", cfg, "--data", data, "--for", "3s"], timeout=60)
check(r.returncode == 0, f"the first run: {r.stderr}")


def api(call, request):
    return nats_request(cluster.base, f"$JS.API.{call}.SHOAL", json.dumps(request).encode() if request else b"")


# z's subject, and its message 5 from the end (stream sequences, newest first).
z_id = next(json.loads(line)["id"] for line in run(["export", data, "--outputs"]).stdout.splitlines()
            if json.loads(line)["node"] == "z")
subject = f"shoal.out.o1.{z_id}"
seq = api("STREAM.INFO", None)["state"]["last_seq"]
found = 0
while True:
    got = api("STREAM.MSG.GET", {"seq": seq})
    if "message" in got and got["message"]["subject"] == subject:
        found += 1
        if found == 5:
            break
    seq -= 1
    check(seq > 0, f"z's subject {subject} has fewer than 5 messages")
k = int(re.search(rf"Nats-Msg-Id: o1:{z_id}:(\d+)", base64.b64decode(got["message"]["hdrs"]).decode()).group(1))
check(api("STREAM.MSG.DELETE", {"seq": seq, "no_erase": True}).get("success"), "the output was not deleted")
stored_at = datetime.fromisoformat(got["message"]["time"][:26].rstrip("Z") + "+00:00").timestamp()
wait_for(lambda: time.time() > stored_at + 1.5, timeout=10, what="the duplicate window past the deleted output")

log_path = os.path.join(wd, "again.log")
with open(log_path, "w") as log:
    again = start(["run", cfg, "--data", data], stdout=log, stderr=log)
    wait_for(lambda: cluster_state(data).get("outputs", {}).get("filled", 0) >= 1, timeout=30,
             what="the engine filling the hole")
    state = cluster_state(data)
    again.terminate()
    again.wait(timeout=30)
log_text = open(log_path).read()
check(f"subject lacked seq {k} below its end" in log_text and "sent them from this process's outputs" in log_text,
      f"the engine did not say it filled seq {k}: {log_text[-3000:]}")
check(state["outputs"]["filled"] == 1 and state["outputs"]["gaps"] == 0, f"admin cluster outputs: {state['outputs']}")

# Every seq of z once, the filled one late, each with the bytes the engine stored.
stored = sorted((json.loads(line) for line in run(["export", data, "--outputs"]).stdout.splitlines()
                 if json.loads(line)["node"] == "z"), key=lambda o: o["seq"])
r = run(["tail", "--cluster", cfg, "--from-stream", "z", "--json", "--count", str(len(stored)), "--for", "30s"],
        timeout=60)
check(r.returncode == 0, f"tail --from-stream: {r.returncode} {r.stderr[-2000:]}")
# It says the gap when it reads past it, and the seq when it comes.
check(f"seq {k} came late" in r.stderr and r.stderr.count("gap on") == 1
      and f"gap on z: seq {k + 1} after {k - 1}" in r.stderr and "twice" not in r.stderr,
      f"tail --from-stream: {r.stderr[-2000:]}")
printed = [json.loads(line) for line in r.stdout.splitlines()]
check(sorted(printed, key=lambda o: o["seq"]) == stored, "z in the stream differs from what the engine stored")
print(f"ok: z's seq {k} deleted from the stream, filled by the engine started again; {len(stored)} outputs of z")
