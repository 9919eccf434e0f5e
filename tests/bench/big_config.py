#!/usr/bin/env python3
"""Writes a config of N nodes to stdout, for timing `shoal plan` (scripts/bench).

One fabricator source and chains of 40 nodes: an ema on the scan, a log_return (tagged), 18
emas in a row, then 20 emas fanning out from the log_return, every other one finding it by a
tag query. Every node has its own NodeID (each chain's head has its own span).

    tests/bench/big_config.py N > big.toml
"""
import sys

n = int(sys.argv[1])
out = ['[engine]\nname = "big"\n\n[[source]]\nname = "market"\nkind = "fabricator"\nassets = 4\n']
for i in range(n):
    chain, k = divmod(i, 40)
    node = f'[[node]]\nname = "n{i}"\n'
    if k == 0:
        node += f'kind = "ema"\ninputs = {{ in = "market.scan" }}\nparams = {{ span = {chain + 2} }}\n'
    elif k == 1:
        node += f'kind = "log_return"\ninputs = {{ in = "n{i - 1}" }}\ntags = ["returns", "chain{chain}"]\n'
    elif k < 20:
        node += f'kind = "ema"\ninputs = {{ in = "n{i - 1}" }}\nparams = {{ span = {k} }}\n'
    elif k % 2 == 0:
        node += f'kind = "ema"\ninputs = {{ in = "n{i - k + 1}" }}\nparams = {{ span = {k} }}\n'
    else:
        node += (f'kind = "ema"\ninputs = {{ in = {{ tags = ["returns", "chain{chain}"], match = "all" }} }}\n'
                 f'params = {{ span = {k} }}\n')
    out.append(node)
sys.stdout.write("\n".join(out))
