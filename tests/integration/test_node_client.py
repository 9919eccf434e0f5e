"""Clients issue, acceptance 3: the Node package (clients/node), packed with `npm pack` and
installed into a fresh project as a user would, against a live engine:
- its TypeScript declarations type-check a program that uses the whole API (tsc --strict);
- a subscriber receives outputs with catch-up; one that stops and starts again with `resume`
  continues with no gap and no duplicate (the missed outputs from the snapshot endpoint);
- a tracked subscriber receives outputs; the admin client pauses and resumes a node."""
import json
import os
import subprocess
import time

from client_engine import client_engine
from harness import SHOAL, SOURCE_DIR, check, wait_for, workdir

wd = workdir()
app = os.path.join(wd, "app")
os.makedirs(app)
npm_env = dict(os.environ, npm_config_audit="false", npm_config_fund="false",
               npm_config_update_notifier="false")


def npm(*args, cwd=app):
    r = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, env=npm_env, timeout=300)
    check(r.returncode == 0, f"npm {' '.join(args)}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


tarball = npm("pack", os.path.join(SOURCE_DIR, "clients/node"), "--pack-destination", wd).strip().splitlines()[-1]
open(os.path.join(app, "package.json"), "w").write('{"name": "app", "private": true, "type": "module"}\n')
# The npm cache (scripts/test installs the same zeromq and msgpackr) is used when it has them.
npm("install", "--prefer-offline", os.path.join(wd, tarball), "typescript@5.4.5")

# The declarations: a program using the API type-checks; one misusing it does not.
USES = """
import { Admin, Output, Subscriber, snapshot, tidyRows, type Gap, type NodeSummary } from "shoal-client";
async function main(): Promise<void> {
  const sub = new Subscriber("tcp://127.0.0.1:1", { topics: ["z"], snapshot: "tcp://127.0.0.1:2", catchUp: 3 });
  const out: Output | null = await sub.receive(10);
  if (out) { const b: bigint = out.bucket; const s: number = out.seq; console.log(b, s, out.rows()); }
  const gaps: Gap[] = sub.gaps;
  const last: Record<string, number> = sub.lastSeq;
  for await (const o of sub) { console.log(o.node); break; }
  const admin = await Admin.connect({ dataDir: "d" });
  const nodes: NodeSummary[] = await admin.nodes();
  const state: "WARMING" | "RUNNING" | "PAUSED" | "FAILED" | "BLOCKED" = await admin.state("z");
  await admin.explain("z", 1n, 2);
  const outs: Output[] = await snapshot("tcp://127.0.0.1:2", "z", 10);
  console.log(gaps, last, nodes, state, outs, tidyRows({ assets: ["a"], values: [1] }));
  sub.close(); admin.close();
}
main();
"""
MISUSES = """
import { Subscriber } from "shoal-client";
const sub = new Subscriber("tcp://127.0.0.1:1", { topics: "z" });
const seq: string = sub.lastSeq["z"];
"""
tsconfig = ('{"compilerOptions": {"strict": true, "noEmit": true, "module": "nodenext", '
            '"moduleResolution": "nodenext", "target": "es2022", "skipLibCheck": false}, "files": ["%s"]}')
tsc = os.path.join(app, "node_modules", ".bin", "tsc")
for name, code, ok in (("uses", USES, True), ("misuses", MISUSES, False)):
    open(os.path.join(app, f"{name}.ts"), "w").write(code)
    open(os.path.join(app, f"tsconfig.{name}.json"), "w").write(tsconfig % f"{name}.ts")
    r = subprocess.run([tsc, "-p", f"tsconfig.{name}.json"], cwd=app, capture_output=True, text=True, timeout=120)
    check((r.returncode == 0) == ok, f"tsc on {name}.ts: exit {r.returncode}\n{r.stdout[-2000:]}")
    if not ok:
        check(r.stdout.count("error TS") == 2, f"tsc should reject both misuses: {r.stdout}")

FIRST = """
import { Subscriber } from "shoal-client";
const [pub, snap] = process.argv.slice(2);
const sub = new Subscriber(pub, { topics: ["z", "ret"], snapshot: snap, catchUp: 5 });
const seen = {};
for await (const out of sub) {
  (seen[out.node] ??= []).push(out.seq);
  if (Object.values(seen).flat().length >= 60) break;
}
sub.close();
console.log(JSON.stringify({ seen, last: sub.lastSeq, gaps: sub.gaps, filled: sub.filled }));
"""
SECOND = """
import { Subscriber } from "shoal-client";
const [pub, snap, resume] = process.argv.slice(2);
const sub = new Subscriber(pub, { topics: ["z", "ret"], snapshot: snap, resume: JSON.parse(resume) });
const seen = {};
for await (const out of sub) {
  (seen[out.node] ??= []).push(out.seq);
  if (Math.min(seen.z?.length ?? 0, seen.ret?.length ?? 0) >= 100) break;
}
sub.close();
console.log(JSON.stringify({ seen, gaps: sub.gaps, filled: sub.filled }));
"""
TRACKED_AND_ADMIN = """
import { Admin, Subscriber } from "shoal-client";
const [tracked, socket] = process.argv.slice(2);
const sub = new Subscriber(tracked, { topics: ["z"], track: "node-client" });
const out = await sub.receive(20000);
sub.close();
const admin = await Admin.connect({ socket });
const running = (await admin.nodes()).find((n) => n.name === "z").state;
await admin.pause("z");
const paused = await admin.state("z");
await admin.resume("z");
console.log(JSON.stringify({ node: out.node, assets: out.value.assets.length, bucket: typeof out.bucket,
                             rows: out.rows().length, running, paused, resumed: await admin.state("z") }));
admin.close();
"""
for name, code in (("first", FIRST), ("second", SECOND), ("tracked", TRACKED_AND_ADMIN)):
    open(os.path.join(app, f"{name}.mjs"), "w").write(code)


def node(name, *args):
    r = subprocess.run(["node", f"{name}.mjs", *args], cwd=app, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"{name}.mjs failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


eng = client_engine(wd)
log = open(os.path.join(wd, "engine.log"), "w")
engine = subprocess.Popen([SHOAL, "run", eng.config, "--data", eng.data, "--for", "10s"], stderr=log)
wait_for(lambda: os.path.exists(eng.socket), what="the admin socket")
first = node("first", eng.pub, eng.snapshot)
check(not first["gaps"], f"first subscriber saw gaps: {first['gaps']}")
check(first["filled"] >= 5, f"catchUp: 5 yields each topic's last 5 first: filled {first['filled']}")
for topic, seqs in first["seen"].items():
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{topic}: {seqs}")
    check(seqs[-1] == first["last"][topic], f"{topic}: lastSeq {first['last'][topic]}, last yielded {seqs[-1]}")
time.sleep(1.0)  # the engine goes on publishing while nobody listens
second = node("second", eng.pub, eng.snapshot, json.dumps(first["last"]))
check(not second["gaps"], f"resumed subscriber saw gaps: {second['gaps']}")
for topic, seqs in second["seen"].items():
    check(seqs[0] == first["last"][topic] + 1, f"{topic}: resumed at {seqs[0]}, had {first['last'][topic]}")
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{topic}: not contiguous")
check(second["filled"] >= 100, f"the missed outputs come from the snapshot, filled {second['filled']}")
tracked = node("tracked", eng.tracked, eng.socket)
check(tracked == {"node": "z", "assets": 8, "bucket": "bigint", "rows": 8, "running": "RUNNING",
                  "paused": "PAUSED", "resumed": "RUNNING"}, f"tracked and admin: {tracked}")
engine.wait(timeout=30)
check(engine.returncode == 0, f"engine failed: see {log.name}")
print("ok: node client:", second["filled"], "outputs caught up after a restart of the subscriber")
