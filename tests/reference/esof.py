#!/usr/bin/python3
"""Expected esof scores and labels for fixed bucket times, computed independently of the C++
kernel with datetime (UTC calendar, weekday()) and math.sin/cos.

Run with Debian's python3:
    /usr/bin/python3 tests/reference/esof.py > tests/reference/esof.json
tests/unit/test_esof.cpp compares every score (1e-12 absolute) and label.
"""
import datetime
import json
import math

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MIN = 60 * 10**9
DAY = 1440 * MIN


def esof(t_ns):
    # timedelta from integer microseconds floors like the kernel (// floors in Python).
    dt = EPOCH + datetime.timedelta(microseconds=t_ns // 1000)
    minute_of_day = dt.hour * 60 + dt.minute
    weekday = dt.weekday()
    raw = 0.6 * math.sin(2 * math.pi * minute_of_day / 1440) + 0.4 * math.cos(
        2 * math.pi * weekday / 7)
    score = min(max(raw, -1.0), 1.0)
    label = "FAVORABLE" if score >= 0.3 else "UNFAVORABLE" if score <= -0.3 else "NEUTRAL"
    return {"t_ns": t_ns, "iso": dt.isoformat(), "minute_of_day": minute_of_day,
            "weekday": weekday, "score": score, "label": label}


def ns(y, mo, d, h=0, mi=0, s=0):
    dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
    return (dt - EPOCH) // datetime.timedelta(microseconds=1) * 1000


times = [
    0,                           # Thursday 00:00
    MIN - 1,                     # last ns of the first minute
    -1,                          # 1969-12-31 23:59:59.999999999, a Wednesday
    -MIN,                        # 1969-12-31 23:59
    -DAY - 1,                    # 1969-12-30 23:59, a Tuesday
    ns(1969, 7, 20, 20, 17, 40),  # negative, mid-day
    ns(2024, 1, 1),              # Monday midnight
    ns(2024, 1, 1, 6),           # Monday 06:00: sin peak
    ns(2024, 1, 1, 18),          # Monday 18:00: sin trough
    ns(2024, 1, 3, 12),          # Wednesday noon
    ns(2024, 1, 4, 9, 30),       # Thursday 09:30
    ns(2024, 1, 5, 15, 45, 59),  # Friday
    ns(2024, 1, 6, 3, 0),        # Saturday
    ns(2024, 1, 7, 23, 59, 59),  # Sunday, last minute
    ns(2024, 2, 29, 12, 1),      # leap day
    ns(2025, 6, 15, 7, 7, 7),    # Sunday
    ns(2025, 11, 20, 21, 5),     # Thursday
    ns(2026, 3, 9, 17, 42),      # Monday
    ns(2000, 1, 1),              # Saturday
    ns(2262, 4, 11, 23, 47, 16),  # near INT64_MAX ns
    ns(1677, 9, 21, 0, 12, 44),   # near INT64_MIN ns
]

print(json.dumps({"cases": [esof(t) for t in times]}, indent=1))
