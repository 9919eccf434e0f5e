"""Provenance issue, `shoal manifest`: a recorded run and its replay agree on every node's digest;
one tampered output byte in a copy changes exactly that node's digest (and nothing else); the
journal's SHA-256 is the one computed independently here from LMDB; the text form names every
node; a dir that is no data dir is refused with exit 2."""
import hashlib
import json
import os
import shutil

import lmdb
import msgpack

from harness import SOURCE_DIR, check, run, workdir

wd = workdir()
cfg = os.path.join(wd, "quickstart.toml")
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"', 'publish = "tcp://127.0.0.1:*"')
open(cfg, "w").write(text.replace('pace = "50ms"', 'pace = "1ms"'))
live = os.path.join(wd, "live")
r = run(["run", cfg, "--for", "2s", "--data", live])
check(r.returncode == 0, r.stderr)


def manifest(path):
    r = run(["manifest", path, "--json"])
    check(r.returncode == 0, f"manifest {path}: {r.stderr}")
    return json.loads(r.stdout)


m = manifest(live)
for key in ("format", "engine_version", "graph_hash", "config", "kinds", "journal", "outputs"):
    check(key in m, f"manifest lacks {key}: {sorted(m)}")
check(m["format"] == "shoal-manifest/1" and len(m["graph_hash"]) == 64, m["graph_hash"])
check(m["config"]["main"] == "quickstart.toml", m["config"])
check(set(m["kinds"]) == {"identity", "log_return", "ema", "zscore"}, m["kinds"])
check(all(len(k["code_hash"]) == 64 and k["version"] >= 1 for k in m["kinds"].values()), m["kinds"])
check(set(m["outputs"]) == {"market.scan", "market.ob", "ret", "ema", "z"}, m["outputs"])
check(all(o["outputs"] > 100 for o in m["outputs"].values()), m["outputs"])

# The journal's hash, independently: per record its seq (8 bytes, big-endian), length (4) and
# bytes, in seq order; and the span of its events' times.
env = lmdb.open(live, readonly=True, lock=False, max_dbs=16, subdir=True)
h, records, event_ts = hashlib.sha256(), 0, []
with env.begin(db=env.open_db(b"journal", create=False)) as txn:
    for key, value in txn.cursor():
        h.update(key[-8:] + len(value).to_bytes(4, "big") + bytes(value))
        records += 1
        rec = msgpack.unpackb(value, raw=False, strict_map_key=False)
        if isinstance(rec, dict) and "payload" in rec:
            event_ts.append(rec["ts"])
env.close()
j = m["journal"]
check(j["records"] == records and j["sha256"] == h.hexdigest(), f"{j} vs {records} {h.hexdigest()}")
check(j["events"] == len(event_ts) and j["first_event_ts"] == event_ts[0]
      and j["last_event_ts"] == event_ts[-1], j)

# Its replay holds the same results: every node's digest and count agree.
replayed = os.path.join(wd, "replayed")
r = run(["replay", live, "--out", replayed])
check(r.returncode == 0, r.stderr)
check(manifest(replayed)["outputs"] == m["outputs"], "replay's digests differ from the live run's")

# One byte of one stored output of z, changed in a copy: only z's digest moves.
tampered = os.path.join(wd, "tampered")
shutil.copytree(live, tampered, ignore=shutil.ignore_patterns("shoal.sock", "shoal.lock"))
z_id = bytes.fromhex(m["outputs"]["z"]["id"])
env = lmdb.open(tampered, max_dbs=16, subdir=True)
outputs = env.open_db(b"outputs", create=False)
with env.begin(db=outputs, write=True) as txn:
    cur = txn.cursor()
    check(cur.set_range(z_id) and cur.key().startswith(z_id), "z has no stored output")
    for _ in range(50):  # an output well inside the run
        cur.next()
    value = bytearray(cur.value())
    value[-1] ^= 0x01  # the last byte of the last value: still valid msgpack
    txn.put(cur.key(), bytes(value), db=outputs)
env.close()
t = manifest(tampered)
check(t["journal"] == m["journal"], "the journal did not change")
changed = sorted(n for n in m["outputs"] if t["outputs"][n] != m["outputs"][n])
check(changed == ["z"], f"digests changed for {changed}")
check(t["outputs"]["z"]["outputs"] == m["outputs"]["z"]["outputs"], "same count, other bytes")

# The text form, for a person.
r = run(["manifest", live])
check(r.returncode == 0 and all(n in r.stdout for n in m["outputs"]), r.stdout)
check(m["journal"]["sha256"] in r.stdout and "1970" not in r.stdout, r.stdout)
r = run(["manifest", wd])
check(r.returncode == 2 and "not a shoal data dir" in r.stderr, r.stderr)
print("ok")
