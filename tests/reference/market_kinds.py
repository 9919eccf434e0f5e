#!/usr/bin/python3
"""Expected outputs of rolling_vol, vwap, ob_features, asset_selector and dc_signal for fixed
seeded inputs, computed with numpy/pandas independently of the C++ kernels.

Run with Debian's python3 (python3-numpy, python3-pandas):
    /usr/bin/python3 tests/reference/market_kinds.py > tests/reference/market_kinds.json
tests/unit/test_{rolling_vol,vwap,dc_signal,ob_features}.cpp replay the same inputs through the
kernels (on a real window cache) and compare every value to 1e-9 relative (1e-12 absolute near 0).
"""
import json

import numpy as np
import pandas as pd

BUCKETS = 80
VOL_WINDOW = 10       # rolling_vol on the scans' prices
RET_VOL_WINDOW = 20   # rolling_vol on log returns
VWAP_WINDOW = 5
SEL_WINDOW = 20
LOOKBACK = 7
CONFIRM_BPS = 2.0
CONTRADICT_BPS = 5.0
LEVELS = 5
MAX_AGE_S = 5         # buckets are 1 s apart
EPS = 0.05

rng = np.random.default_rng(20261122)
assets = ["A", "B", "C", "D", "E", "F", "FLAT", "GONE", "NEW"]
moving = ["A", "B", "C", "D", "E", "F", "GONE", "NEW"]
px = pd.DataFrame(index=range(BUCKETS), columns=assets, dtype=float)
for a in moving:
    px[a] = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, BUCKETS)))
px["FLAT"] = 42.0
px.loc[:29, "NEW"] = np.nan      # appears at bucket 30
px.loc[40:, "GONE"] = np.nan     # disappears at bucket 40
px.loc[[12, 13, 50], "D"] = np.nan
NEGATIVE = {45: "C", 60: "E"}    # sent as -1.0 in the scan: the kernels must drop them
for t, a in NEGATIVE.items():
    px.at[t, a] = np.nan

# Volumes: some zeros, B silent (all zero) for a stretch, E without a volume at bucket 33.
vol = pd.DataFrame(rng.uniform(0.0, 1000.0, (BUCKETS, len(assets))).round(3),
                   index=range(BUCKETS), columns=assets)
vol[vol < 100.0] = 0.0
vol.loc[20:34, "B"] = 0.0
vol.at[33, "E"] = np.nan


def scan_json(t):
    names, prices = [], []
    for a in assets:
        if NEGATIVE.get(t) == a:
            names.append(a)
            prices.append(-1.0)
        elif pd.notna(px.at[t, a]):
            names.append(a)
            prices.append(float(px.at[t, a]))
    return {"assets": names, "prices": prices}


def vector_json(df, t):
    names = [a for a in df.columns if pd.notna(df.at[t, a])]
    return {"assets": names, "values": [float(df.at[t, a]) for a in names]}


def frame_rows(df):
    return [{a: float(df.at[t, a]) for a in df.columns if pd.notna(df.at[t, a])}
            for t in df.index]


def rolling_std(x, window):
    roll = x.rolling(window)
    sd = roll.std(ddof=1)
    full = x.notna().astype(float).rolling(window).sum().eq(window)
    return sd.mask((roll.max() == roll.min()) & full, 0.0).where(full)


# rolling_vol
ret = np.log(px / px.shift(1))
vol_px = rolling_std(px, VOL_WINDOW)
vol_ret = rolling_std(ret, RET_VOL_WINDOW)

# vwap: price from the scans, volume vectors; every slot needs both, sum(q) > 0.
both = px.notna() & vol.notna()
pq = (px * vol).where(both)
q = vol.where(both)
full = both.astype(float).rolling(VWAP_WINDOW).sum().eq(VWAP_WINDOW)
sum_q = q.rolling(VWAP_WINDOW).sum()
vwap = (pq.rolling(VWAP_WINDOW).sum() / sum_q).where(full & (sum_q > 0))

# asset_selector: z of the last log return over SEL_WINDOW returns (window + 1 prices).
roll = ret.rolling(SEL_WINDOW)
z = (ret - roll.mean()) / roll.std(ddof=1)
full = ret.notna().astype(float).rolling(SEL_WINDOW).sum().eq(SEL_WINDOW)
z = z.mask((roll.max() == roll.min()) & full, 0.0).where(full)
selector = []
for t in range(BUCKETS):
    if t < SEL_WINDOW:
        selector.append(None)  # warming: the node does not fire
        continue
    best = None
    for a in sorted(assets):
        v = z.at[t, a]
        if pd.isna(v):
            continue
        if best is None or abs(v) > abs(best[1]):
            best = (a, float(v))
    selector.append("nil" if best is None else
                    {"asset": best[0], "z": best[1],
                     "direction": "SHORT" if best[1] > 0 else "LONG"})

# dc_signal: fires with the selector (from bucket SEL_WINDOW); its own scan history starts there.
dc = []
for t in range(BUCKETS):
    sel = selector[t]
    if sel is None:
        dc.append(None)
        continue
    if sel == "nil":
        dc.append({"asset": None, "direction": None, "change_bps": None,
                   "status": "INSUFFICIENT"})
        continue
    row = {"asset": sel["asset"], "direction": sel["direction"], "change_bps": None,
           "status": "INSUFFICIENT"}
    t0 = t - LOOKBACK
    if t0 >= SEL_WINDOW:
        p0, p1 = px.at[t0, sel["asset"]], px.at[t, sel["asset"]]
        if pd.notna(p0) and pd.notna(p1):
            ch = (p1 / p0 - 1.0) * 1e4
            against = ch if sel["direction"] == "SHORT" else -ch
            row["change_bps"] = float(ch)
            row["status"] = ("CONFIRM" if against <= -CONFIRM_BPS else
                             "SKIP_CONTRADICT" if against >= CONTRADICT_BPS else "NEUTRAL")
    dc.append(row)

# ob_features: books keyed by asset, each asset updated in some buckets only.
ob_assets = ["A", "B", "C", "D", "E", "F", "G", "H", "STALE"]
books = []
for t in range(BUCKETS):
    bucket = {}
    for a in ob_assets:
        if a == "STALE" and t > 15:
            continue  # stops updating: drops out MAX_AGE_S buckets later
        if rng.uniform() < 0.35:
            continue  # no new book this bucket: the last one still counts while fresh
        nb, na = int(rng.integers(0, 8)), int(rng.integers(0, 8))
        if a == "H" and t % 10 == 3:
            nb = na = 0  # empty book
        bid_qty = [round(float(x), 3) for x in rng.uniform(0.0, 10.0, nb)]
        ask_qty = [round(float(x), 3) for x in rng.uniform(0.0, 10.0, na)]
        if a == "G" and t % 13 == 5:
            bid_qty = [0.0] * nb
            ask_qty = [0.0] * na  # zero total
        bid_px = [100.0 - 0.01 * (i + 1) for i in range(nb)]
        ask_px = [100.0 + 0.01 * (i + 1) for i in range(na)]
        bucket[a] = {"asset": a, "bid_px": bid_px, "bid_qty": bid_qty, "ask_px": ask_px,
                     "ask_qty": ask_qty}
    books.append(bucket)

last = {}
ob_out = []
for t in range(BUCKETS):
    for a, b in books[t].items():
        bid = sum(b["bid_qty"][:LEVELS])
        ask = sum(b["ask_qty"][:LEVELS])
        if bid + ask > 0:
            last[a] = ((bid - ask) / (bid + ask), t)
        else:
            last.pop(a, None)  # the newest book has no imbalance
    fresh = {a: v for a, (v, tb) in last.items() if t - tb <= MAX_AGE_S}
    vals = np.array([fresh[a] for a in sorted(fresh)])
    med = float(np.median(vals)) if len(vals) else 0.0
    agree = 0.0
    if len(vals) and med != 0:
        agree = 100.0 * float(np.sum((np.abs(vals) >= EPS) & (np.sign(vals) == np.sign(med)))) \
            / len(vals)
    ob_out.append({"median_imbalance": med, "agreement_pct": agree, "n_assets": len(vals),
                   "imbalance": {a: float(fresh[a]) for a in sorted(fresh)}})

out = {
    "params": {"vol_window": VOL_WINDOW, "ret_vol_window": RET_VOL_WINDOW,
               "vwap_window": VWAP_WINDOW, "sel_window": SEL_WINDOW, "lookback": LOOKBACK,
               "confirm_bps": CONFIRM_BPS, "contradict_bps": CONTRADICT_BPS,
               "levels": LEVELS, "max_age": f"{MAX_AGE_S}s", "eps": EPS},
    "scans": [scan_json(t) for t in range(BUCKETS)],
    "volumes": [vector_json(vol, t) for t in range(BUCKETS)],
    "books": books,
    "log_return": frame_rows(ret),
    "rolling_vol_prices": frame_rows(vol_px),
    "rolling_vol_returns": frame_rows(vol_ret),
    "vwap": frame_rows(vwap),
    "asset_selector": selector,
    "dc_signal": dc,
    "ob_features": ob_out,
}
print(json.dumps(out, indent=1))
