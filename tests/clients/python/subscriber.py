#!/usr/bin/python3
"""A shoal subscriber in Python, on the client package (clients/python, shoal_client).

Subscribes to an engine's publish endpoint and prints a JSON summary on exit:
  {"topics": {topic: {"count", "first", "last", "gaps", "missed"}}, "received": N}
Usage: subscriber.py ENDPOINT --seconds S [--sleep MS] [--stall S] [--topic T ...] [--track NAME]
                     [--curve-secret FILE --server-key KEY]
--track NAME makes it a tracked subscriber: named NAME on the engine's publish_tracked endpoint,
which counts what it drops for this client under that name.
--sleep makes it a slow client (it sleeps after every message); --stall makes it stop reading
for a while after its first message. --curve-secret (a .key_secret certificate from `shoal keys
gen`) and --server-key (the engine's public key) speak CURVE to an engine with [engine] curve.
No snapshot endpoint is given, so what ZeroMQ drops shows as gaps.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../clients/python"))
from shoal_client import Subscriber  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--sleep", type=float, default=0.0, help="ms to sleep after each message")
    ap.add_argument("--stall", type=float, default=0.0,
                    help="seconds to stop reading after the first message (a stalled client)")
    ap.add_argument("--topic", action="append", default=[])
    ap.add_argument("--rcvhwm", type=int, default=1000)
    ap.add_argument("--rcvbuf", type=int, default=0, help="kernel receive buffer bytes (0 = OS default)")
    ap.add_argument("--track", help="routing id for the engine's publish_tracked endpoint")
    ap.add_argument("--curve-secret", help="our CURVE certificate (.key_secret)")
    ap.add_argument("--server-key", help="the engine's CURVE public key (Z85)")
    args = ap.parse_args()
    if bool(args.curve_secret) != bool(args.server_key):
        ap.error("--curve-secret and --server-key go together")

    sub = Subscriber(args.endpoint, args.topic, track=args.track, rcvhwm=args.rcvhwm,
                     rcvbuf=args.rcvbuf, curve_secret=args.curve_secret, server_key=args.server_key)
    print("ready", file=sys.stderr, flush=True)  # connecting; a test may start the engine now

    topics = {}
    received = 0
    end = time.time() + args.seconds
    while time.time() < end:
        out = sub.receive(timeout=0.1)
        if out is None:
            continue
        t = topics.setdefault(out.node, {"count": 0, "first": out.seq, "last": None, "gaps": 0, "missed": 0})
        t["last"] = out.seq
        t["count"] += 1
        received += 1
        if args.sleep:
            time.sleep(args.sleep / 1000.0)
        if args.stall and received == 1:
            time.sleep(args.stall)
    for gap in sub.gaps:
        topics[gap.topic]["gaps"] += 1
        topics[gap.topic]["missed"] += gap.missed
    sub.close()
    print(json.dumps({"topics": topics, "received": received}))


if __name__ == "__main__":
    main()
