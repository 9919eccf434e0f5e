"""Build mode (issue 13), acceptance 5: a kernel that throws is retried, then DEAD.

chain is recorded live; smooth's span is changed, so smooth and zs run in every segment. The
real binary is made to throw with a failpoint (SHOAL_FAILPOINTS, runtime/engine/failpoints.hpp)
when smooth computes one bucket of the third segment:
- thrown once (a transient fault): the retry from the state before that segment succeeds, the
  build completes, and the dir equals `shoal replay --config NEW` byte for byte;
- thrown every time: after 1 + --retries attempts the segment is DEAD (a dead letter with the
  error), smooth's later segments and zs from that segment on are blocked, exit status 3;
- a build without --retry-dead does not try it again (still DEAD, from the ledger);
- `--retry-dead` after the fix (no failpoint) completes the build, equal to the replay."""
import json
import os
import shutil

from harness import SOURCE_DIR, check, check_parity, config_with_port, free_port, replayed, run, workdir


def build(cfg, data, *extra, faults=None):
    env = dict(os.environ)
    env.pop("SHOAL_FAILPOINTS", None)
    if faults:
        env["SHOAL_FAILPOINTS"] = faults
    r = run(["build", cfg, "--data", data, "--segment", "10", "--json", *extra], env=env)
    check(r.stdout.startswith("{"), f"build printed no report: {r.stdout}\n{r.stderr}")
    return r.returncode, json.loads(r.stdout), r.stderr


def by_name(report):
    return {n["name"]: n for n in report["nodes"]}


wd = workdir()
chain = config_with_port(os.path.join(SOURCE_DIR, "tests/data/configs/chain.toml"), free_port(), wd)
live = os.path.join(wd, "live")
r = run(["run", chain, "--for", "4s", "--data", live])
check(r.returncode == 0, f"live run failed: {r.stderr}")
changed = os.path.join(wd, "changed.toml")
open(changed, "w").write(open(chain).read().replace("params = { span = 10 }", "params = { span = 11 }"))
ref = replayed(live, changed, os.path.join(wd, "replayed"))

rc, plan, err = build(changed, live, "--dry-run")
check(rc == 0, f"dry run: {rc} {err}")
segs = plan["segments"]
check(segs >= 4, f"at least 4 segments, got {segs}")
SECOND = 10**9
bucket = plan["first_segment_start"] + 2 * plan["segment_ns"] + 3 * SECOND  # in segment 2

# --- a transient fault: one retry, and the build is complete and exact ------------------------
d1 = os.path.join(wd, "d1")
shutil.copytree(live, d1)
rc, rep, err = build(changed, d1, faults=f"kernel_throw=smooth@{bucket}*1")
check(rc == 0 and rep["complete"], f"a transient fault is retried: {rc} {err}")
check("failpoint kernel_throw=smooth" in err and "trying again (1 of 2 retries)" in err, err)
check(by_name(rep)["smooth"]["counts"] == {"run": segs}, by_name(rep)["smooth"])
check(rep["dead"] == [], rep["dead"])
check_parity(d1, ref, "after a retried fault, the built dir equals the replay", min_outputs=100)

# --- a fault on every attempt: DEAD, a dead letter, and what is below it blocked --------------
d2 = os.path.join(wd, "d2")
shutil.copytree(live, d2)
rc, rep, err = build(changed, d2, "--retries", "2", faults=f"kernel_throw=smooth@{bucket}")
check(rc == 3 and not rep["complete"], f"a dead segment makes the build incomplete: {rc} {err}")
check(err.count("trying again") == 2, f"tried 1 + 2 times: {err}")
n = by_name(rep)
check(n["smooth"]["segments"] == ["run", "run", "dead"] + ["blocked"] * (segs - 3), n["smooth"])
check(n["zs"]["segments"] == ["run", "run"] + ["blocked"] * (segs - 2), n["zs"])
check("upstream smooth is dead" in n["zs"]["why"], n["zs"]["why"])
for name in ("market.scan", "ret", "side"):
    check(n[name]["counts"] == {"done": segs}, n[name])
check(len(rep["dead"]) == 1, rep["dead"])
letter = rep["dead"][0]
check(letter["node"] == "smooth" and letter["segment"] == 2, letter)
check("dead after 3 attempts" in letter["why"] and f"kernel threw at bucket {bucket}" in letter["why"]
      and "--retry-dead" in letter["why"], letter)
text = run(["build", changed, "--data", d2, "--segment", "10", "--dry-run"])
check(text.returncode == 3 and "dead letter: smooth segment 2: dead after 3 attempts" in text.stdout,
      f"the text report lists the dead letter:\n{text.stdout}")

# --- without --retry-dead, a later build leaves it dead ---------------------------------------
rc, rep, err = build(changed, d2)
n = by_name(rep)
check(rc == 3 and n["smooth"]["segments"][:3] == ["done", "done", "dead"], f"{rc} {n['smooth']}")
check("trying again" not in err and "failpoint" not in err, f"nothing was tried: {err}")

# --- the fix, then --retry-dead: complete, and equal to the replay -----------------------------
rc, rep, err = build(changed, d2, "--retry-dead")
check(rc == 0 and rep["complete"], f"--retry-dead after the fix: {rc} {err}")
n = by_name(rep)
check(n["smooth"]["counts"].get("dead", 0) == 0 and n["smooth"]["counts"].get("run", 0) >= segs - 2,
      n["smooth"])
check(any("dead before" in w for w in n["smooth"]["why"]), n["smooth"]["why"])
check_parity(d2, ref, "after --retry-dead, the built dir equals the replay", min_outputs=100)
