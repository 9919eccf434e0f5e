#!/usr/bin/python3
"""Reference for mc_forewarner's bootstrap, independent of the C++ kernel: splitmix64 and
xoshiro256** written out in Python, the same seeding and the same draw procedure
(docs/kinds.md (mc_forewarner)). The C++ test must match every p_drawdown exactly.

Run with Debian's python3 (python3-numpy, only to make the input returns):
    /usr/bin/python3 tests/reference/mc_forewarner.py > tests/reference/mc_forewarner.json
"""
import json
import math

import numpy as np

M64 = (1 << 64) - 1


def splitmix64(state):
    """Returns (new_state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Xoshiro256ss:
    def __init__(self, seed):
        self.s = []
        st = seed & M64
        for _ in range(4):
            st, out = splitmix64(st)
            self.s.append(out)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def seed_of(node_id, bucket):
    # First 8 bytes of the NodeID = first 16 hex digits, big-endian; XOR the bucket as u64.
    return int(node_id[:16], 16) ^ (bucket & M64)


def p_drawdown(returns, seed, paths, horizon, dd):
    rng = Xoshiro256ss(seed)
    n = len(returns)
    growth = [math.exp(r) for r in returns]
    keep = 1.0 - dd
    hits = 0
    for first in range(0, paths, 2):
        # A pair of paths: each PRNG output's low 32 bits draw for the first, high for the second.
        e, peak, hit = [1.0, 1.0], [1.0, 1.0], [False, False]
        for _ in range(horizon):
            x = rng.next()
            for k, half in enumerate((x & 0xFFFFFFFF, x >> 32)):
                e[k] *= growth[(half * n) >> 32]
                peak[k] = max(peak[k], e[k])
                if e[k] < keep * peak[k]:
                    hit[k] = True
        hits += hit[0] + (hit[1] if first + 1 < paths else 0)
    return hits / paths


def status(p):
    return ("GREEN", 1.0) if p < 0.10 else ("ORANGE", 0.5) if p < 0.30 else ("RED", 0.0)


rng = np.random.default_rng(20260417)
NODE_A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
NODE_B = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
calm = [float(x) for x in rng.normal(0.0005, 0.003, 100)]
choppy = [float(x) for x in rng.normal(0.0, 0.006, 100)]
small = [float(x) for x in rng.normal(-0.001, 0.004, 10)]
quiet = [float(x) for x in rng.normal(0.0005, 0.0025, 100)]

cases = []
for name, rets, node, bucket, params in [
    ("quiet", quiet, NODE_A, 1_700_000_000_000_000_000, (1000, 20, 100, 0.02)),
    ("calm", calm, NODE_A, 1_700_000_000_000_000_000, (1000, 20, 100, 0.02)),
    ("choppy", choppy, NODE_A, 1_700_000_000_000_000_000, (1000, 20, 100, 0.02)),
    ("choppy_next_bucket", choppy, NODE_A, 1_700_000_001_000_000_000, (1000, 20, 100, 0.02)),
    ("choppy_node_b", choppy, NODE_B, 1_700_000_000_000_000_000, (1000, 20, 100, 0.02)),
    ("choppy_negative_bucket", choppy, NODE_B, -86_400_000_000_000, (1000, 20, 100, 0.02)),
    ("small", small, NODE_B, 42_000_000_000, (50, 5, 10, 0.01)),
    ("odd_paths", small, NODE_A, 7_000_000_000, (51, 7, 10, 0.02)),
]:
    paths, horizon, window, dd = params
    seed = seed_of(node, bucket)
    p = p_drawdown(rets, seed, paths, horizon, dd)
    st, scale = status(p)
    cases.append({"name": name, "node_id": node, "bucket": bucket, "paths": paths,
                  "horizon": horizon, "window": window, "dd": dd, "returns": rets,
                  "seed": str(seed), "p_drawdown": p, "status": st, "scale": scale})

# The PRNG on its own: the first outputs for a known seed, to tell a PRNG slip from a
# procedure slip when a case fails.
g = Xoshiro256ss(12345)
prng = {"seed": 12345, "next": [str(g.next()) for _ in range(5)]}

print(json.dumps({"cases": cases, "prng": prng}, indent=1))
