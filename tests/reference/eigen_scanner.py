#!/usr/bin/python3
"""Expected outputs of eigen_scanner for fixed seeded scans, computed with numpy.

Run with Debian's python3 (python3-numpy):
    /usr/bin/python3 tests/reference/eigen_scanner.py > tests/reference/eigen_scanner.json
The C++ test (tests/unit/test_eigen_scanner.cpp) replays the same scans through the kernel
and compares every field to 1e-9 relative (1e-12 absolute near 0).

This is an independent, direct implementation of design §8: every bucket recomputes each
window from the raw prices with np.corrcoef + np.linalg.eigvalsh (the kernel keeps rolling
sums instead). Degenerate cases follow docs/kinds.md (eigen_scanner):
  - an asset is in window W when it has a finite, positive price in each of the last W+1
    scans; assets whose W returns are all exactly equal (zero variance) are dropped;
  - n = 0 → lambda_max = share = 0; n = 1 → the 1×1 correlation matrix [1]: lambda_max = 1;
  - velocity = 0 on a window's first output and whenever this or the previous output of the
    window had n = 0 (there is no correlation structure to differentiate);
  - no asset with prices at t and t−1 → mean_return = up_ratio = down_ratio = 0, SIDEWAYS.
Scans hold NaN as null (JSON has no NaN) and may hold negative prices: both are skipped.
"""
import json
import math

import numpy as np


def make_scans(rng, n_scans, names, events):
    """Correlated random walks (one market factor whose weight shifts with the regime)."""
    k = len(names)
    logp = np.log(rng.uniform(20.0, 200.0, k))
    beta = rng.uniform(0.3, 1.2, k)
    px = np.empty((n_scans, k))
    for t in range(n_scans):
        regime = (t // 97) % 3  # calm / trending up / stressed, in turn
        drift = [0.0, 0.0015, -0.002][regime]
        factor_weight = [0.3, 0.6, 1.0][regime]
        f = rng.normal(drift, 0.01)
        logp = logp + factor_weight * beta * f + rng.normal(0.0, 0.006, k)
        px[t] = np.exp(logp)
    scans = []
    for t in range(n_scans):
        row = {names[j]: float(px[t, j]) for j in range(k)}
        events(t, row)
        scans.append(row)
    return scans


def valid(p):
    return p is not None and math.isfinite(p) and p > 0


def lambda_max(returns):
    """returns: W × n matrix; zero-variance columns already dropped."""
    n = returns.shape[1]
    if n == 0:
        return 0.0
    if n == 1:
        return 1.0
    c = np.corrcoef(returns, rowvar=False)
    return float(np.linalg.eigvalsh(c)[-1])


def scanner(scans, windows, short, long):
    period = max(windows) + 1
    prev = {}  # window -> (lambda, n)
    out = []
    for t in range(len(scans)):
        if t + 1 < period:
            out.append(None)
            continue
        lam, share, vel, counts = [], [], [], []
        for w in windows:
            rows = scans[t - w : t + 1]
            names = sorted(a for a in rows[-1] if all(valid(r.get(a)) for r in rows))
            p = np.array([[r[a] for a in names] for r in rows]).reshape(w + 1, len(names))
            ret = np.log(p[1:] / p[:-1])
            keep = [j for j in range(len(names)) if ret[:, j].max() != ret[:, j].min()]
            ret = ret[:, keep]
            n = len(keep)
            lm = lambda_max(ret)
            if w not in prev or n == 0 or prev[w][1] == 0:
                v = 0.0
            else:
                v = lm - prev[w][0]
            prev[w] = (lm, n)
            lam.append(lm)
            share.append(lm / n if n else 0.0)
            vel.append(v)
            counts.append(n)
        cur, before = scans[t], scans[t - 1]
        rets = [math.log(cur[a] / before[a]) for a in sorted(cur)
                if valid(cur[a]) and valid(before.get(a))]
        if rets:
            mean = float(np.mean(rets))
            up = sum(1 for r in rets if r > 0) / len(rets)
            down = sum(1 for r in rets if r < 0) / len(rets)
        else:
            mean = up = down = 0.0
        regime = "BULL" if up >= 0.60 else "BEAR" if down >= 0.55 else "SIDEWAYS"
        out.append({
            "windows": windows, "lambda_max": lam, "share": share, "velocity": vel,
            "n_assets": counts,
            "vel_div": vel[windows.index(short)] - vel[windows.index(long)],
            "mean_return": mean, "up_ratio": up, "down_ratio": down, "regime": regime,
        })
    return out


def scan_json(row):
    assets = list(row)
    return {"assets": assets,
            "prices": [row[a] if math.isfinite(row[a]) else None for a in assets]}


def small_case():
    """windows [5, 20]: 420 scans of up to 17 assets with every degenerate case."""
    names = [f"A{j:02d}" for j in range(12)] + ["FLAT", "NEW", "GONE", "GAP", "BAD"]
    flat_price = [None]

    def events(t, row):
        if t < 100:
            del row["NEW"]  # appears at scan 100
        if t >= 250:
            del row["GONE"]  # disappears at scan 250
        if t in (60, 61, 200):
            del row["GAP"]
        if 120 <= t < 180:  # flat stretch: zero variance while the window is inside it
            if flat_price[0] is None:
                flat_price[0] = row["FLAT"]
            row["FLAT"] = flat_price[0]
        if t == 150:
            row["BAD"] = -row["BAD"]  # negative: skipped
        if t in (300, 301):
            row["BAD"] = float("nan")  # non-finite: skipped
        if 330 <= t < 333:  # only one asset priced: n = 1 windows, one-asset returns
            for a in list(row):
                if a != "A00":
                    del row[a]
        if t == 360:  # an empty scan: n = 0, no returns
            row.clear()
        if 380 <= t < 388:  # all prices unchanged: returns exactly 0, every asset flat
            for a in row:
                row[a] = 100.0 + names.index(a)

    rng = np.random.default_rng(20261122)
    scans = make_scans(rng, 420, names, events)
    return scans, [5, 20], 5, 20


def long_case():
    """windows [50, 150, 300]: 760 scans of 14 assets, one flat for 200 scans."""
    names = [f"B{j:02d}" for j in range(13)] + ["FLAT"]

    def events(t, row):
        if 350 <= t < 550:
            row["FLAT"] = 77.0
        if t >= 600 and row["B12"] is not None:
            del row["B12"]
        if t == 500:
            row["B03"] = float("nan")

    rng = np.random.default_rng(20261123)
    scans = make_scans(rng, 760, names, events)
    return scans, [50, 150, 300], 50, 300


cases = []
for scans, windows, short, long in (small_case(), long_case()):
    cases.append({
        "params": {"windows": windows, "short": short, "long": long},
        "scans": [scan_json(r) for r in scans],
        "outputs": scanner(scans, windows, short, long),
    })
print(json.dumps({"cases": cases}, separators=(",", ":")))
