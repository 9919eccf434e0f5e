"""Provenance issue, `shoal manifest`: a recorded run and its replay agree on every node's digest;
one tampered output byte in a copy changes exactly that node's digest (and nothing else); the
journal's SHA-256 is the one computed independently here from LMDB; the text form names every
node; a dir that is no data dir is refused with exit 2. `shoal explain DIR z --bucket T`: z's
window of 20 ret buckets, under each the two scan buckets it read, under each the one journal
event it was made of (checked against the journal as exported); recomputed from only the stretch
of journal its windows need, the bytes are identical; in the tampered copy, explain reports the
difference and exits 1."""
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
    tampered_bucket = (int.from_bytes(cur.key()[32:], "big") ^ 0x8000000000000000) - (1 << 64 if cur.key()[32] < 0x80 else 0)
env.close()
t = manifest(tampered)
check(t["journal"] == m["journal"], "the journal did not change")
changed = sorted(n for n in m["outputs"] if t["outputs"][n] != m["outputs"][n])
check(changed == ["z"], f"digests changed for {changed}")
check(t["outputs"]["z"]["outputs"] == m["outputs"]["z"]["outputs"], "same count, other bytes")

# explain z at a bucket well inside the run, down to the journal.
S = 10**9
T = m["outputs"]["z"]["last_bucket"] - 100 * S
r = run(["explain", live, "z", "--bucket", str(T), "--json"])
check(r.returncode == 0, r.stderr)
e = json.loads(r.stdout)
check(e["node"] == "z" and e["stored"] and e["kind"] == "zscore" and e["code_hash"] == m["kinds"]["zscore"]["code_hash"], e)
(z_in,) = e["inputs"]
check(z_in["upstream"] == "ret" and [o["bucket"] for o in z_in["outputs"]] == [T - k * S for k in range(19, -1, -1)],
      [o["bucket"] for o in z_in["outputs"]])
exported = [json.loads(l) for l in run(["export", live, "--journal"]).stdout.splitlines()]
for ret in z_in["outputs"]:
    (ret_in,) = ret["inputs"]
    b = ret["bucket"]
    check(ret["stored"] and ret_in["upstream"] == "market.scan"
          and [o["bucket"] for o in ret_in["outputs"]] == [b - S, b], ret_in)
    for scan in ret_in["outputs"]:
        (rec,) = scan["journal"]
        line = exported[rec["ingest"] - 1]
        check(line["stream"] == "market.scan" and line["ts"] == rec["ts"] and line["seq"] == rec["seq"]
              and scan["bucket"] <= rec["ts"] < scan["bucket"] + S, f"{rec} vs {line}")
rc = e["recomputed"]
check(rc["identical"] and not rc["whole_history"] and rc["journal_from"] > 100, rc)
r = run(["explain", live, "ema", "--bucket", str(T), "--depth", "0", "--json"])
rc = json.loads(r.stdout)["recomputed"]
check(r.returncode == 0 and rc["identical"] and rc["whole_history"] and rc["journal_from"] == 1, rc)
r = run(["explain", tampered, "z", "--bucket", str(tampered_bucket), "--depth", "0"])
check(r.returncode == 1 and "DIFFERENT from the stored output" in r.stdout, r.stdout + r.stderr)
r = run(["explain", tampered, "z", "--bucket", str(T), "--depth", "0"])
check(r.returncode == 0 and "identical bytes" in r.stdout, "an untouched bucket of the copy")
r = run(["explain", live, "z", "--bucket", str(T), "--depth", "1", "--json"])
check("inputs" not in json.loads(r.stdout)["inputs"][0]["outputs"][0], "--depth 1 stops at ret")
r = run(["explain", live, "z", "--bucket", str(T)])
check(r.returncode == 0 and "in <- ret: 20 buckets" in r.stdout and "in <- market.scan: 2 buckets" in r.stdout,
      r.stdout[:2000])
r = run(["explain", live, "nope", "--bucket", str(T)])
check(r.returncode == 2 and 'no node "nope"' in r.stderr, r.stderr)
r = run(["explain", live, "z", "--bucket", str(-2**63)])
check(r.returncode == 2 and "no event time" in r.stderr, r.stderr)
r = run(["explain", live, "z", "--bucket", str(T + 1)])
check(r.returncode == 1 and "no stored output" in r.stderr, r.stderr)

# The text form, for a person.
r = run(["manifest", live])
check(r.returncode == 0 and all(n in r.stdout for n in m["outputs"]), r.stdout)
check(m["journal"]["sha256"] in r.stdout and "1970" not in r.stdout, r.stdout)
r = run(["manifest", wd])
check(r.returncode == 2 and "not a shoal data dir" in r.stderr, r.stderr)
print("ok")
