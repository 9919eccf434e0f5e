"""Build mode (issue 13), acceptance 6: a kind's code changed at the same kind_version.

A dir records, in meta `kinds`, the code hash of every kind that made its outputs. Here chain is
recorded live by this binary, and the record is then made to say that ema (smooth's kind) was
another code, as if an older binary had recorded it:
- with the outputs as they are (the "old" code computed what this one does): the build probes
  smooth (it computes its first segment with outputs again from the stored inputs), finds the
  same bytes, says the change was cosmetic, and runs nothing; a second build does not probe again;
- with one of smooth's stored outputs different (the "old" code behaved otherwise): the build
  says the behaviour changed without a kind_version bump, smooth and what reads it run, and the
  dir then equals `shoal replay --config` of the journal byte for byte."""
import json
import os
import shutil

import lmdb
import msgpack

from harness import SOURCE_DIR, check, check_parity, config_with_port, free_port, replayed, run, workdir

OLD = "0123456789ab" * 5 + "cdef"  # the code hash "an older binary" had for ema


def build(cfg, data, *extra):
    r = run(["build", cfg, "--data", data, "--segment", "10", "--json", *extra])
    check(r.stdout.startswith("{"), f"build printed no report: {r.stdout}\n{r.stderr}")
    return r.returncode, json.loads(r.stdout), r.stderr


def counts(report):
    return {n["name"]: n["counts"] for n in report["nodes"]}


def recorded_by_older_binary(data):
    """Meta kinds says ema was code OLD (no behaviour id: recorded before there were any)."""
    env = lmdb.open(data, max_dbs=16, subdir=True)
    meta = env.open_db(b"meta", create=False)
    with env.begin(db=meta, write=True) as txn:
        kinds = msgpack.unpackb(txn.get(b"kinds"), raw=False)
        check(len(kinds["ema"]["code_hash"]) == 64 and kinds["ema"]["code_hash"] != OLD, kinds)
        kinds["ema"] = {"version": kinds["ema"]["version"], "code_hash": OLD}
        txn.put(b"kinds", msgpack.packb(kinds))
    env.close()


def shifted(x):
    """What the "old" code computed: every number off by one."""
    if isinstance(x, float):
        return x + 1.0
    if isinstance(x, list):
        return [shifted(y) for y in x]
    if isinstance(x, dict):
        return {k: shifted(y) for k, y in x.items()}
    return x


def kinds_of(data):
    return json.loads(run(["manifest", data, "--json"]).stdout)["kinds"]


wd = workdir()
chain = config_with_port(os.path.join(SOURCE_DIR, "tests/data/configs/chain.toml"), free_port(), wd)
live = os.path.join(wd, "live")
r = run(["run", chain, "--for", "4s", "--data", live])
check(r.returncode == 0, f"live run failed: {r.stderr}")
code = kinds_of(live)["ema"]["code_hash"]
check(kinds_of(live)["ema"]["behaviour"] == code, "a dir records each kind's behaviour id")

# --- the same behaviour: nothing runs -------------------------------------------------------
d1 = os.path.join(wd, "d1")
shutil.copytree(live, d1)
recorded_by_older_binary(d1)
rc, rep, err = build(chain, d1)
check(rc == 0 and rep["complete"], f"build: {rc} {err}")
segs = rep["segments"]
note = [n for n in rep["notes"] if n.startswith("kind ema:")]
check(len(note) == 1 and OLD[:12] in note[0] and code[:12] in note[0]
      and "behaviour unchanged (smooth" in note[0] and "results kept" in note[0], rep["notes"])
check(all(c == {"done": segs} for c in counts(rep).values()), f"nothing ran: {counts(rep)}")
k = kinds_of(d1)["ema"]
check(k["code_hash"] == code and k["behaviour"] == OLD, f"the results keep OLD's behaviour id: {k}")
rc, rep, err = build(chain, d1)
check(rc == 0 and rep["notes"] == [] and all(c == {"done": segs} for c in counts(rep).values()),
      f"a second build neither probes nor runs: {rep['notes']} {counts(rep)}")

# --- another behaviour: smooth and what reads it run, with the warning --------------------------
d2 = os.path.join(wd, "d2")
shutil.copytree(live, d2)
recorded_by_older_binary(d2)
smooth_id = next(n["id"] for n in rep["nodes"] if n["name"] == "smooth")
env = lmdb.open(d2, max_dbs=16, subdir=True)
outputs = env.open_db(b"outputs", create=False)
with env.begin(db=outputs, write=True) as txn:
    cur = txn.cursor()
    check(cur.set_range(bytes.fromhex(smooth_id)), "smooth has stored outputs")
    out = msgpack.unpackb(cur.value(), raw=False, strict_map_key=False)
    check(out.get("node") == "smooth" and shifted(out["value"]) != out["value"], f"{out!r}"[:300])
    out["value"] = shifted(out["value"])
    txn.put(cur.key(), msgpack.packb(out, use_bin_type=True))
env.close()

rc, rep, err = build(chain, d2)
check(rc == 0 and rep["complete"], f"build: {rc} {err}")
note = [n for n in rep["notes"] if n.startswith("kind ema:")]
check(len(note) == 1 and "BEHAVIOUR CHANGED (smooth" in note[0]
      and "version should have been bumped" in note[0], rep["notes"])
c = counts(rep)
# zs reads smooth: it runs from the segment of the changed output on (its state carries over).
check(c["smooth"] == {"run": segs} and set(c["zs"]) <= {"done", "run"} and c["zs"]["run"] >= segs - 1,
      f"smooth and zs ran: {c}")
for name in ("market.scan", "market.ob", "ret", "side"):
    check(c[name] == {"done": segs}, f"{name} did not run: {c}")
why = {n["name"]: n["why"] for n in rep["nodes"]}
check(list(why["smooth"]) == ["behaviour of kind ema changed without a kind_version bump"], why)
check(kinds_of(d2)["ema"]["behaviour"] == code, "the results now have this code's behaviour")

ref = replayed(live, chain, os.path.join(wd, "replayed"))
check_parity(d2, ref, "the rebuilt dir equals the replay", min_outputs=100)
