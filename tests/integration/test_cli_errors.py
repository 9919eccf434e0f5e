"""Issue 12 point 8, tools that mislead: every usage error exits 2 with CLI11's message (and an
unknown command is named); `plan --dot` labels break lines in Graphviz; a directory or a file
where the other is expected, and a bad HOST:PORT or endpoint, get one clean line and exit 2;
`tail` says when it cannot connect or gets nothing within --for (exit 1); `shoal run` says when
it resumes a data dir and from which checkpoint."""
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

from harness import SOURCE_DIR, check, config_with_port, free_port, run, workdir

failures = []


def expect(cond, message):
    if not cond:
        failures.append(message)


def expect_exit(args, code, *needles, absent=("stoi", "bad_alloc", "terminate", "A subcommand is required")):
    r = run(args)
    shown = f"shoal {' '.join(args)}: exit {r.returncode}, stderr {r.stderr!r}"
    expect(r.returncode == code, f"expected exit {code}: {shown}")
    for n in needles:
        expect(n in r.stderr, f"expected {n!r} in stderr: {shown}")
    for n in absent:
        expect(n not in r.stderr, f"unexpected {n!r} in stderr: {shown}")
    return r


wd = workdir()
quickstart = os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml")
cfg = config_with_port(quickstart, free_port(), wd)  # never the default port, nor ./shoal-data

# --- Usage errors: exit 2, CLI11's message, a pointer to --help. ---
expect_exit(["bogus"], 2, 'unknown command "bogus"', "run, plan", "--help")
expect_exit([], 2, "A subcommand is required", "run, plan", "--help", absent=())
expect_exit(["run"], 2, "CONFIG is required", "shoal run --help")
expect_exit(["plan", "a.toml", "b.toml"], 2, "not expected: b.toml")
expect_exit(["run", "x.toml", "--nope"], 2, "--nope")
expect_exit(["fabricate", "--assets", "0", "--out", os.path.join(wd, "never")], 2, "--assets")
expect_exit(["--log-level", "loud", "plan", quickstart], 2, "--log-level")
expect_exit(["--bogus"], 2, "--bogus")
for ok in (["--help"], ["--version"], ["plan", "--help"]):
    r = run(ok)
    expect(r.returncode == 0 and r.stdout and not r.stderr, f"shoal {' '.join(ok)}: {r.returncode} {r.stderr!r}")

# --- plan --dot: a label's names, kind and id are separate lines once Graphviz renders it. ---
dot = run(["plan", quickstart, "--dot"])
expect(dot.returncode == 0, dot.stderr)
expect('\\\\n' not in dot.stdout, f"a label escapes its line breaks twice: {dot.stdout}")
if shutil.which("dot"):
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.stdout, capture_output=True, text=True, timeout=60)
    expect(svg.returncode == 0, svg.stderr)
    ns = {"s": "http://www.w3.org/2000/svg"}
    labels = {}
    for g in ET.fromstring(svg.stdout).iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "node":
            labels[g.find("s:title", ns).text] = [t.text for t in g.findall("s:text", ns)]
    expect(labels, f"no nodes in the SVG: {svg.stdout[:300]}")
    for node, lines in labels.items():
        expect(not any("\\n" in (t or "") for t in lines), f"{node}: literal \\n in {lines}")
    expect(any(lines[0] == "ret" and lines[1].startswith("log_return") for lines in labels.values()),
           f"node ret should read 'ret' over 'log_return  ID': {labels}")
else:
    print("note: graphviz `dot` not installed; checked the DOT text only")

# --- A directory where a file is expected, and the other way round. ---
a_dir = os.path.join(wd, "a_dir")
os.mkdir(a_dir)
a_file = os.path.join(wd, "a_file")
open(a_file, "w").close()
fab = os.path.join(wd, "fab")
r = run(["fabricate", "--seed", "3", "--assets", "2", "--buckets", "20", "--out", fab])
check(r.returncode == 0, r.stderr)
expect_exit(["replay", fab, "--config", a_dir], 2, a_dir, "not a regular file")
expect_exit(["run", a_dir], 2, a_dir, "not a regular file")
expect_exit(["plan", a_dir], 2, a_dir, "not a regular file")
expect_exit(["replay", a_dir], 2, a_dir, "not a shoal data dir")
expect_exit(["replay", a_file], 2, a_file, "not a shoal data dir")
expect_exit(["replay", fab, "--out", a_file], 2, f"--out {a_file}: exists and is not a directory")
expect_exit(["replay", fab, "--digest", a_dir], 2, f"--digest {a_dir}: is a directory")
expect_exit(["fabricate", "--out", a_file], 2, f"--out {a_file}: exists and is not a directory")
expect_exit(["run", cfg, "--data", a_file, "--for", "1s"], 2, f"--data {a_file}: exists and is not a directory")
expect_exit(["run", cfg, "--report", a_dir, "--for", "1s", "--data", os.path.join(wd, "unused")], 2, f"--report {a_dir}: is a directory")
expect_exit(["export", a_file, "--journal"], 2, a_file)
expect_exit(["parity", a_file, fab], 2, a_file, "neither a data dir nor a digest file")
expect_exit(["admin", "--socket", os.path.join(wd, "no.sock"), "submit", a_dir], 2, f"{a_dir}: not a regular file")

# --- HOST:PORT and endpoints: no "stoi". ---
for bad, why in (("garbage", "is not a loopback HOST:PORT"), ("127.0.0.1:abc", 'port "abc" is not a number'),
                 ("127.0.0.1:99999", "outside 1..65535"), ("127.0.0.1:", "no port")):
    expect_exit(["admin", "--tcp", bad, "--token", "x" * 16, "help"], 2, f"--tcp \"{bad}\"", why)
expect_exit(["tail", "tcp://127.0.0.1:abc", "--for", "1s"], 2, 'port "abc" is not a number')
expect_exit(["tail", "nonsense", "--for", "1s"], 2, "is not a ZeroMQ endpoint")
expect_exit(["tail", "--for", "1s"], 2, "ENDPOINT is required (or --cluster CONFIG)")
expect_exit(["tail", "tcp://127.0.0.1:65535", "z", "--catch-up", "3", "--for", "1s"], 2,
            "cannot derive the snapshot endpoint", "pass --snapshot")
expect_exit(["tail", f"ipc://{wd}/pub", "z", "--catch-up", "3", "--for", "1s"], 2, "pass --snapshot")
expect_exit(["tail", "tcp://127.0.0.1:5556", "z", "--catch-up", "3", "--snapshot", "5557", "--for", "1s"], 2,
            "--snapshot", "is not a ZeroMQ endpoint")

# --- tail: nothing listening, or nothing published, is said, exit 1. ---
dead = f"tcp://127.0.0.1:{free_port()}"
expect_exit(["tail", dead, "--for", "1s"], 1, f"cannot connect to {dead}",
            f"no output from {dead} within 1s: never connected")
expect_exit(["tail", dead, "z", "--count", "3", "--for", "1s", "--track", "me"], 1, f"no output from {dead}")
import zmq  # noqa: E402  (only this part needs pyzmq)
ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
port = pub.bind_to_random_port("tcp://127.0.0.1")
quiet = f"tcp://127.0.0.1:{port}"
r = expect_exit(["tail", quiet, "nosuch", "--for", "1s"], 1, f"no output from {quiet} within 1s (connected)")
expect("cannot connect" not in r.stderr, r.stderr)
pub.close(0)
ctx.term()

# --- run: resuming an existing data dir is said, with its checkpoint. ---
data = os.path.join(wd, "data")
first = run(["run", cfg, "--for", "1s", "--data", data])
check(first.returncode == 0, first.stderr)
expect("resuming" not in first.stderr, f"a new dir is not resumed: {first.stderr}")
records = len(run(["export", data, "--journal"]).stdout.splitlines())
second = run(["run", cfg, "--for", "1s", "--data", data])
check(second.returncode == 0, second.stderr)
m = re.search(r"resuming data dir (\S+): (\d+) journal records, last checkpoint at journal position (\d+)",
              second.stderr)
expect(m is not None, f"no resume line: {second.stderr}")
if m:
    expect(m.group(1) == data and int(m.group(2)) == records > 0 and int(m.group(3)) == records,
           f"{m.group(0)} (journal holds {records})")
expect(second.stderr.count("resuming") == 1, f"one resume line: {second.stderr}")

check(not failures, "\n      ".join(failures))
print("ok")
