#!/usr/bin/python3
"""Expected outputs of log_return, ema and zscore for fixed inputs, computed with pandas.

Run with Debian's python3 (python3-numpy, python3-pandas):
    /usr/bin/python3 tests/reference/basic_kinds.py > tests/reference/basic_kinds.json
The C++ kernel tests (tests/unit/test_basic_kinds.cpp) replay the same scans through the
kernels and compare every value to 1e-9 relative.
"""
import json

import numpy as np
import pandas as pd

BUCKETS = 60
SPAN = 10
WINDOW = 20

rng = np.random.default_rng(20261121)
assets = ["A", "B", "C", "D", "FLAT"]
px = pd.DataFrame(index=range(BUCKETS), columns=assets, dtype=float)
for a in ["A", "B", "C", "D"]:
    px[a] = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, BUCKETS)))
px["FLAT"] = 42.0
# D disappears for a few scans: no return across the gap, and windows restart.
px.loc[[10, 11, 25], "D"] = np.nan

ret = np.log(px / px.shift(1))
# The kernel keeps each asset's recursion across buckets where it is absent: ignore_na=True.
ema = ret.ewm(span=SPAN, adjust=False, ignore_na=True).mean().where(ret.notna())
roll = ret.rolling(WINDOW)
z = (ret - roll.mean()) / roll.std(ddof=1)
full = ret.notna().astype(float).rolling(WINDOW).sum().eq(WINDOW)
flat = (roll.max() == roll.min()) & full
z = z.mask(flat, 0.0)


def frame_rows(df):
    rows = []
    for t in df.index:
        row = {a: float(df.at[t, a]) for a in df.columns if pd.notna(df.at[t, a])}
        rows.append(row)
    return rows


out = {
    "span": SPAN,
    "window": WINDOW,
    "scans": [
        {"assets": [a for a in assets if pd.notna(px.at[t, a])],
         "prices": [float(px.at[t, a]) for a in assets if pd.notna(px.at[t, a])]}
        for t in px.index
    ],
    "log_return": frame_rows(ret),
    "ema": frame_rows(ema),
    "zscore": frame_rows(z),
}
print(json.dumps(out, indent=1))
