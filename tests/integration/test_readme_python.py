"""The README's Python subscriber runs as written (only the port is changed to a free one)
against a live quickstart engine."""
import os
import re
import subprocess
import sys

from harness import SHOAL, SOURCE_DIR, check, config_with_port, free_port, workdir

readme = open(os.path.join(SOURCE_DIR, "README.md")).read()
blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
check(len(blocks) == 1, f"README should have one python block, has {len(blocks)}")
port = free_port()
snippet = blocks[0].replace("tcp://127.0.0.1:5556", f"tcp://127.0.0.1:{port}")
check(snippet != blocks[0], "the snippet connects to the quickstart endpoint")

wd = workdir()
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml"), port, wd)
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "8s", "--data", os.path.join(wd, "data")],
                          stderr=subprocess.DEVNULL)
r = subprocess.run(["/usr/bin/python3", "-c", snippet], capture_output=True, text=True, timeout=30)
engine.kill()
engine.wait()
check(r.returncode == 0, f"README snippet failed: {r.stderr}")
line = r.stdout.strip()
check(line.startswith("z "), f"unexpected output: {line}")
check("A000" in line, line)
print("ok:", line)
