"""Acceptance (journal issue) 4: kill -9 during recording, then reopen: the store opens, the
journal is a clean prefix of what was sent, and `shoal run` continues on it (and the outputs
stored across the crash equal a replay of the journal)."""
import os
import signal
import subprocess
import time

from harness import SHOAL, RET_Z, check, check_parity, engine_config, fabricator_source, run, workdir

wd = workdir()
cfg, _ = engine_config(wd, "crash", fabricator_source(9, 10, "2ms"), RET_Z, file_name="engine")
data = os.path.join(wd, "data")
# What the feed sends, as the fabricator would journal it.
sent = os.path.join(wd, "sent")
check(run(["fabricate", "--seed", "9", "--assets", "10", "--buckets", "5000", "--out", sent]).returncode == 0, "fabricate")
sent_lines = run(["export", sent, "--journal"]).stdout.splitlines()

proc = subprocess.Popen([SHOAL, "run", cfg, "--data", data, "--checkpoint-every", "300"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(2.0)
proc.send_signal(signal.SIGKILL)
proc.wait()

exported = run(["export", data, "--journal"])
check(exported.returncode == 0, f"store does not open after kill -9: {exported.stderr}")
got = exported.stdout.splitlines()
check(len(got) > 1000, f"only {len(got)} records journaled")
check(got == sent_lines[: len(got)], "journal is not a clean prefix of what was sent")

r = run(["run", cfg, "--data", data, "--for", "1s"])
check(r.returncode == 0, f"run does not continue after kill -9: {r.stderr}")
check("restored" in r.stderr or "catching up" in r.stderr, r.stderr)
got2 = run(["export", data, "--journal"]).stdout.splitlines()
check(len(got2) > len(got), "the journal grew after restart")
check(got2 == sent_lines[: len(got2)], "the continued journal is not what the feed sends")

replay = os.path.join(wd, "replay")
check(run(["replay", data, "--out", replay]).returncode == 0, "replay")
check_parity(data, replay, "outputs across the crash against a replay", min_outputs=None)
print("ok:", len(got), "records before the kill,", len(got2), "after restart")
