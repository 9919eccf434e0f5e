"""One harness for every README example: they run as written.

- Shell: the ```sh blocks of README.md and of every scenarios/<name>/README.md (each scenario
  must have one) become one bash script per README (set -e, pipefail), run in a fresh directory
  where `build/shoal` is the binary under test and `scenarios/` and `scripts/` are the source
  tree's, so what the commands write (data dirs, journals, pictures) stays out of the checkout.
  A line `wait` waits for the background commands (`&`) so far; those still running at the end
  get SIGINT, as a user's Ctrl-C, and every background command must exit 0. Lines that run the
  project's own tooling (`scripts/setup`, `build`, `test`, `demo`, `fuzz`, `tsan`) are left out:
  they build and test, which is what runs this harness; the lines around them spell out the
  same run.
- Python: README.md's examples use the installed client package; test_python_client.py installs
  it into a fresh venv and runs them against a live engine.
"""
import glob
import os
import re
import subprocess

from harness import SHOAL, SOURCE_DIR, check, workdir

TOOLING = re.compile(r"^scripts/(setup|build|test|demo|fuzz|tsan)\b")
WAIT_ALL = 'for job in $(jobs -p); do wait "$job"; done'


def shell_lines(readme):
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", open(readme).read(), re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()  # README comments: two spaces, then '#'
            if command and not command.startswith("#") and not TOOLING.match(command):
                lines.append(WAIT_ALL if command == "wait" else command)
    return lines


def run_shell(label, lines):
    wd = workdir()
    os.makedirs(os.path.join(wd, "build"))
    os.symlink(os.path.abspath(SHOAL), os.path.join(wd, "build", "shoal"))
    for d in ("scenarios", "scripts", "config", "clients"):
        os.symlink(os.path.join(SOURCE_DIR, d), os.path.join(wd, d))
    stop = 'for job in $(jobs -p); do kill -INT "$job"; wait "$job"; done'
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n" + stop + "\n"
    env = dict(os.environ, SHOAL_BIN=os.path.abspath(SHOAL))
    r = subprocess.run(["bash", "-c", script], cwd=wd, env=env, capture_output=True, text=True,
                       timeout=150)
    check(r.returncode == 0, f"{label}: exit {r.returncode}\n--- script\n{script}"
                             f"--- stdout\n{r.stdout[-3000:]}--- stderr\n{r.stderr[-3000:]}")
    print(f"ok: {label}: {len(lines)} commands ran")


# Shell examples: the README's, then each scenario's.
readmes = [("README.md", os.path.join(SOURCE_DIR, "README.md"))]
for d in sorted(glob.glob(os.path.join(SOURCE_DIR, "scenarios", "*"))):
    if os.path.isdir(d):
        path = os.path.join(d, "README.md")
        check(os.path.exists(path), f"scenario {os.path.basename(d)} has no README.md")
        readmes.append((os.path.relpath(path, SOURCE_DIR), path))
for label, path in readmes:
    lines = shell_lines(path)
    check(lines, f"{label} has no ```sh commands to run")
    run_shell(label, lines)
