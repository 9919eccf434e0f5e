#!/usr/bin/python3
"""A shoal subscriber in Python (Debian python3-zmq + python3-msgpack).

Subscribes to an engine's publish endpoint, decodes every [topic][msgpack Output] frame,
checks that each topic's seqs are contiguous, and prints a JSON summary on exit:
  {"topics": {topic: {"count", "first", "last", "gaps", "missed"}}, "received": N}
Usage: subscriber.py ENDPOINT --seconds S [--sleep MS] [--stall S] [--topic T ...] [--track NAME]
                     [--curve-secret FILE --server-key KEY]
--track NAME makes it a tracked subscriber: a DEALER named NAME connected to the engine's
publish_tracked endpoint, which counts what it drops for this client under that name.
--sleep makes it a slow client (it sleeps after every message); --stall makes it stop reading
for a while after its first message. --curve-secret (a .key_secret certificate from `shoal keys
gen`) and --server-key (the engine's public key) speak CURVE to an engine with [engine] curve.
"""
import argparse
import json
import sys
import time

import msgpack
import zmq
import zmq.auth


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

    ctx = zmq.Context()
    sub = ctx.socket(zmq.DEALER if args.track else zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, args.rcvhwm)
    if args.rcvbuf:
        sub.setsockopt(zmq.RCVBUF, args.rcvbuf)
    if args.curve_secret:
        sub.curve_publickey, sub.curve_secretkey = zmq.auth.load_certificate(args.curve_secret)
        sub.curve_serverkey = args.server_key.encode()
    if args.track:
        sub.setsockopt(zmq.ROUTING_ID, args.track.encode())
        sub.connect(args.endpoint)
        for t in args.topic or [""]:
            sub.send_multipart([b"subscribe", t.encode()])  # queued until connected
    else:
        for t in args.topic or [""]:
            sub.setsockopt(zmq.SUBSCRIBE, t.encode())
        sub.connect(args.endpoint)
    print("ready", file=sys.stderr, flush=True)  # connecting; a test may start the engine now

    topics = {}
    received = 0
    end = time.time() + args.seconds
    while time.time() < end:
        if not sub.poll(100):
            continue
        topic, body = sub.recv_multipart()
        if args.track and topic == b"":
            # The engine's answer to a request: {"subscribed": prefix} or {"error": why}.
            reply = msgpack.unpackb(body, raw=False)
            assert "error" not in reply, reply
            continue
        out = msgpack.unpackb(body, raw=False)
        assert out["node"] == topic.decode(), (out["node"], topic)
        assert set(out) == {"bucket", "id", "node", "seq", "value"}, sorted(out)
        t = topics.setdefault(out["node"], {"count": 0, "first": out["seq"], "last": None,
                                            "gaps": 0, "missed": 0})
        if t["last"] is not None and out["seq"] != t["last"] + 1:
            t["gaps"] += 1
            t["missed"] += out["seq"] - t["last"] - 1
        t["last"] = out["seq"]
        t["count"] += 1
        received += 1
        if args.sleep:
            time.sleep(args.sleep / 1000.0)
        if args.stall and received == 1:
            time.sleep(args.stall)
    print(json.dumps({"topics": topics, "received": received}))


if __name__ == "__main__":
    main()
