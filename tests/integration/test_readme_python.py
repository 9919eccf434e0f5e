"""The README's Python subscribers (PUB and tracked) run as written (only the ports are changed to
free ones) against a live quickstart engine."""
import os
import re
import subprocess
import sys

from harness import SHOAL, SOURCE_DIR, check, config_with_port, free_port, workdir

readme = open(os.path.join(SOURCE_DIR, "README.md")).read()
blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
check(len(blocks) == 2, f"README should have two python blocks (PUB, tracked), has {len(blocks)}")
port, tracked = free_port(), free_port()
snippets = [b.replace("tcp://127.0.0.1:5556", f"tcp://127.0.0.1:{port}")
             .replace("tcp://127.0.0.1:5558", f"tcp://127.0.0.1:{tracked}") for b in blocks]
check(all(s != b for s, b in zip(snippets, blocks)), "each snippet connects to a quickstart endpoint")

wd = workdir()
cfg = config_with_port(os.path.join(SOURCE_DIR, "scenarios/quickstart/graph.toml"), port, wd)
text = open(cfg).read().replace("[engine]\n", f'[engine]\npublish_tracked = "tcp://127.0.0.1:{tracked}"\n', 1)
open(cfg, "w").write(text)
engine = subprocess.Popen([SHOAL, "run", cfg, "--for", "12s", "--data", os.path.join(wd, "data")],
                          stderr=subprocess.DEVNULL)
lines = []
for snippet in snippets:
    r = subprocess.run(["/usr/bin/python3", "-c", snippet], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"README snippet failed: {r.stderr}")
    line = r.stdout.strip()
    check(line.startswith("z "), f"unexpected output: {line}")
    check("A000" in line, line)
    lines.append(line)
engine.kill()
engine.wait()
print("ok:", lines)
