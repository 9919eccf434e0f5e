"""Acceptance: a config with a cycle, one with an unknown kind and one with a TOML syntax error
each exit 2 with one line naming file:line and the problem."""
import os

from harness import SOURCE_DIR, check, run

cases = {
    "cycle.toml": "cycle: ",
    "unknown_kind.toml": 'unknown kind "frobnicate"',
    "syntax_error.toml": "TOML syntax error",
}
for name, problem in cases.items():
    path = os.path.join(SOURCE_DIR, "tests/data/configs", name)
    for cmd in (["run", path, "--for", "1s"], ["plan", path]):
        r = run(cmd)
        check(r.returncode == 2, f"{cmd[0]} {name}: exit {r.returncode}, expected 2")
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1, f"{cmd[0]} {name}: expected one line, got {lines}")
        check(lines[0].startswith(f"shoal: config error: {path}:"), f"{name}: no file:line in {lines[0]}")
        line_no = lines[0][len(f"shoal: config error: {path}:"):].split(":")[0]
        check(line_no.isdigit() and int(line_no) > 0, f"{name}: bad line number in {lines[0]}")
        check(problem in lines[0], f"{name}: '{problem}' not in {lines[0]}")
        check(r.stdout == "", f"{name}: printed to stdout: {r.stdout}")
print("ok")
