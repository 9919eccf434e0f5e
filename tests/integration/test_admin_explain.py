"""Provenance issue, admin `explain`: a running engine explains its own stored outputs.

The quickstart runs live with a data dir. Through its admin socket, `explain z BUCKET` answers
what `shoal explain DIR` answers for a stopped dir: z's stored output, the 20 ret buckets its
window read, under each the two scan buckets and under each its journal event; and the output
recomputed from that stretch of journal, byte-identical. ema's state depends on all history, so
the live engine does not replay the whole journal for it: it says why and what to run instead.
A bucket without an output, a missing bucket and an unknown node are clear errors, and the
engine keeps answering."""
import json
import os
import subprocess

from harness import SHOAL, SOURCE_DIR, check, free_port, run, wait_for, workdir

S = 10**9
wd = workdir()
text = open(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")).read()
text = text.replace('publish = "tcp://127.0.0.1:5556"', f'publish = "tcp://127.0.0.1:{free_port()}"')
cfg = os.path.join(wd, "quickstart.toml")
open(cfg, "w").write(text.replace('pace = "50ms"', 'pace = "2ms"'))
data = os.path.join(wd, "data")
sock = os.path.join(data, "shoal.sock")
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "60s", "--data", data],
                          stderr=subprocess.PIPE, text=True)


def admin(*args):
    r = run(["admin", "--socket", sock, "--json", *args])
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "error": r.stderr or r.stdout}


def z_last():
    z = admin("inspect", "z") if os.path.exists(sock) else {}
    return z.get("last_output") or {"bucket": 0, "seq": 0}


try:
    wait_for(lambda: z_last()["seq"] > 60, timeout=30, what="60 outputs of z")
    T = z_last()["bucket"] - 30 * S
    e = admin("explain", "z", str(T))
    check(e.get("node") == "z" and e.get("stored") and e.get("kind") == "zscore", e)
    (z_in,) = e["inputs"]
    check(z_in["upstream"] == "ret" and [o["bucket"] for o in z_in["outputs"]]
          == [T - k * S for k in range(19, -1, -1)], [o["bucket"] for o in z_in["outputs"]])
    for ret in z_in["outputs"]:
        (ret_in,) = ret["inputs"]
        check(ret["stored"] and ret_in["upstream"] == "market.scan"
              and [o["bucket"] for o in ret_in["outputs"]] == [ret["bucket"] - S, ret["bucket"]], ret_in)
        for scan in ret_in["outputs"]:
            (rec,) = scan["journal"]
            check(rec["stream"] == "market.scan" and scan["bucket"] <= rec["ts"] < scan["bucket"] + S, rec)
    rc = e["recomputed"]
    check(rc.get("identical") is True and not rc["whole_history"] and rc["journal_from"] > 1, rc)

    shallow = admin("explain", "z", str(T), "0")
    check(shallow.get("stored") and "inputs" not in shallow, f"depth 0 stops at z: {shallow}")
    ema = admin("explain", "ema", str(T), "0")
    check(ema.get("stored") and "depends on all history" in ema["recomputed"].get("skipped", "")
          and "shoal explain DIR ema" in ema["recomputed"]["skipped"], ema)

    for args, says in ((("z", str(T + 1)), "no stored output at bucket"),
                       (("z",), "missing \"bucket\""),
                       (("nope", str(T)), "no node named \"nope\"")):
        bad = admin("explain", *args)
        check(bad.get("ok") is False and says in bad.get("error", ""), f"{args}: {bad}")
    check(admin("version").get("version"), "the engine still answers")
finally:
    engine.terminate()
    engine.wait(timeout=20)
