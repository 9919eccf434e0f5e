#!/usr/bin/env python3
"""Writes a config of one log_return and N ema nodes over it to stdout, for the node-firing
overhead figure of scripts/bench (issue 11's 10,000-node case). Each ema has its own span, so
every node has its own NodeID and none is shared.

    tests/bench/many_emas.py N ASSETS > many.toml
"""
import sys

n, assets = int(sys.argv[1]), int(sys.argv[2])
out = [f'[engine]\nname = "many_emas"\n\n[[source]]\nname = "market"\nkind = "fabricator"\n'
       f'assets = {assets}\nbooks = false\n',
       '[[node]]\nname = "ret"\nkind = "log_return"\ninputs = { in = "market.scan" }\n']
for i in range(n):
    out.append(f'[[node]]\nname = "ema{i}"\nkind = "ema"\ninputs = {{ in = "ret" }}\n'
               f'params = {{ span = {i + 2} }}\n')
sys.stdout.write("\n".join(out))
