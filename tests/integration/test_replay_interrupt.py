"""Issue 12 point 8: Ctrl-C (SIGINT) or SIGTERM during `shoal replay` stops it promptly, removes
the partial output (only what the replay wrote) and says so; exit 128 + the signal (130 for
Ctrl-C). `--digest` stores nothing: it stops and writes no digest. A replay that fails midway (a
damaged journal record) names the record and its dir, removes its partial output the same way
and exits 1."""
import os
import re
import signal
import subprocess
import threading
import time

from harness import SOURCE_DIR, check, run, start, wait_for, workdir

wd = workdir()
big = os.path.join(wd, "big")
# Through quickstart's graph, about 3 s of CPU for a full-speed replay here: a signal
# sent once the engine has started lands mid-journal.
BUCKETS = 60_000
graph = os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")
r = run(["fabricate", "--seed", "1", "--assets", "48", "--buckets", str(BUCKETS), "--no-books", "--out", big])
check(r.returncode == 0, r.stderr)


def interrupt(args, signo, started):
    """Starts `shoal replay ARGS`, waits until started(stderr lines) holds, sends signo; returns
    (exit code, stderr, stdout, seconds from the signal to the exit)."""
    proc = start(["replay"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, out = [], []
    readers = [threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True),
               threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)]
    for t in readers:
        t.start()
    wait_for(lambda: started(lines) or proc.poll() is not None, timeout=60, what="the replay to start")
    check(proc.poll() is None, f"the replay ended before the signal: {''.join(lines)}")
    t0 = time.monotonic()
    proc.send_signal(signo)
    code = proc.wait(timeout=60)
    elapsed = time.monotonic() - t0
    for t in readers:
        t.join(timeout=10)
    return code, "".join(lines), "".join(out), elapsed


def spawned(lines):  # the engine's start-up line: replay() reads the journal next
    return any("spawned" in line for line in lines)


# Ctrl-C at full speed: the output dir it created is removed.
out = os.path.join(wd, "out")
code, err, _, secs = interrupt([big, "--config", graph, "--out", out], signal.SIGINT,
                               lambda lines: spawned(lines) and os.path.exists(os.path.join(out, "data.mdb")))
m = re.search(r"replay interrupted by SIGINT after (\d+) of (\d+) journal records; removed partial output (\S+)",
              err)
check(code == 130, f"exit {code}: {err}")
check(m is not None, f"no interruption message: {err}")
check(int(m.group(1)) < int(m.group(2)) == BUCKETS and m.group(3) == out, m.group(0))
check(not os.path.exists(out), f"{out} is left behind")
check(secs < 3, f"took {secs:.1f} s to stop")

# A dir that existed before holds other files: only the replay's own files go.
kept = os.path.join(wd, "kept")
os.mkdir(kept)
open(os.path.join(kept, "notes.txt"), "w").write("mine\n")
code, err, _, secs = interrupt([big, "--config", graph, "--out", kept], signal.SIGTERM,
                               lambda lines: spawned(lines) and os.path.exists(os.path.join(kept, "data.mdb")))
check(code == 143, f"exit {code}: {err}")
check(f"replay interrupted by SIGTERM after" in err and f"removed the partial output (data.mdb) from {kept}" in err,
      err)
check(sorted(os.listdir(kept)) == ["notes.txt"], f"{kept}: {os.listdir(kept)}")

# --digest at 1000x event time (a minute of replay), in its wait between events: stops, no digest.
digest = os.path.join(wd, "digest.json")
code, err, stdout, secs = interrupt([big, "--config", graph, "--digest", digest, "--speed", "1000x"],
                                    signal.SIGINT, spawned)
check(code == 130, f"exit {code}: {err}")
check(re.search(r"replay interrupted by SIGINT after \d+ of \d+ journal records; no digest written", err), err)
check(not os.path.exists(digest) and stdout == "", f"a digest was written: {stdout[:200]}")
check(secs < 3, f"took {secs:.1f} s to stop")

# Uninterrupted, the same replay still finishes: exit 0.
small = os.path.join(wd, "small")
check(run(["fabricate", "--seed", "1", "--assets", "2", "--buckets", "50", "--out", small]).returncode == 0, "fabricate")
r = run(["replay", small, "--out", os.path.join(wd, "small.replay")])
check(r.returncode == 0 and "interrupted" not in r.stderr, r.stderr)

# A damaged record halfway through a journal: the replay fails naming it, and leaves nothing.
import lmdb  # noqa: E402  (python3-lmdb, as the other tests that edit a store)
damaged = os.path.join(wd, "damaged")
check(run(["fabricate", "--seed", "2", "--assets", "4", "--buckets", "3000", "--no-books", "--out", damaged]).returncode == 0,
      "fabricate")
env = lmdb.open(damaged, max_dbs=16, subdir=True)
with env.begin(db=env.open_db(b"journal", create=False), write=True) as txn:
    cur = txn.cursor()
    check(cur.set_key((1500).to_bytes(8, "big")), "no journal record 1500")
    cur.put(cur.key(), b"\xc1not msgpack")
env.close()
for args, removed in ([["--out", os.path.join(wd, "damaged.replay")], "removed partial output"],
                      [["--digest", os.path.join(wd, "damaged.json")], "no digest written"]):
    r = run(["replay", damaged, "--config", graph] + args)
    check(r.returncode == 1 and f"replay failed: journal record 1500 of {damaged} is damaged" in r.stderr
          and removed in r.stderr, f"{args}: {r.returncode} {r.stderr}")
    check(not os.path.exists(args[1]), f"{args[1]} is left behind")
print("ok")
