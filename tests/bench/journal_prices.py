#!/usr/bin/env python3
"""Writes the prices of a data dir's market.scan events as little-endian float64, scan after
scan, for the raw loop of scripts/bench (tests/bench/bench_raw_loop.cpp reads them without any
shoal code). Reads `shoal export DIR --journal` (JSON lines) on stdin.

    shoal export DIR --journal | tests/bench/journal_prices.py OUT
"""
import json
import struct
import sys

scans = 0
with open(sys.argv[1], "wb") as out:
    for line in sys.stdin:
        r = json.loads(line)
        if r.get("stream") == "market.scan" and "payload" in r:
            prices = r["payload"]["prices"]
            out.write(struct.pack(f"<{len(prices)}d", *prices))
            scans += 1
print(scans)
