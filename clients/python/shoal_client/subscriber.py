"""Subscriber: a node's outputs as they are published, with gaps found and, given the engine's
snapshot endpoint, filled.

Each output carries its node's seq (1, 2, 3, … with no holes), so a subscriber knows what it
missed: a slow reader that ZeroMQ dropped for, a restart of the engine or of the subscriber.
With `snapshot` (the engine's `[engine] snapshot` endpoint) the subscriber asks for what it
lacks — at start (`catch_up` outputs per topic, or everything after `resume`), after a
reconnect, and whenever a seq jumps — and yields every output once, in seq order per topic.
What even the snapshot no longer holds is reported as a Gap.
"""
import collections
import time
from typing import Dict, Iterable, NamedTuple, Optional

import msgpack
import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

from .output import DecodeError, Output

SNAPSHOT_MAX = 100_000  # the most one snapshot request may ask for


class Gap(NamedTuple):
    """Outputs of `topic` after seq `after` and before seq `got` that could not be had."""
    topic: str
    after: int
    got: int

    @property
    def missed(self) -> int:
        return self.got - self.after - 1


class SubscriberError(RuntimeError):
    """The engine refused a request (tracked subscription, snapshot)."""


def _curve(sock, curve_secret, server_key):
    if bool(curve_secret) != bool(server_key):
        raise ValueError("curve_secret and server_key go together")
    if curve_secret:
        sock.curve_publickey, sock.curve_secretkey = zmq.auth.load_certificate(curve_secret)
        sock.curve_serverkey = server_key.encode() if isinstance(server_key, str) else server_key


def snapshot(endpoint: str, topic: str, n: int, *, timeout: float = 5.0, context=None,
             curve_secret=None, server_key=None):
    """The last n outputs of topic from an engine's snapshot endpoint, oldest first."""
    ctx = context or zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    try:
        _curve(req, curve_secret, server_key)
        req.connect(endpoint)
        req.send(msgpack.packb({"topic": topic, "n": int(n)}))
        if not req.poll(int(timeout * 1000)):
            raise SubscriberError(f"no answer from the snapshot endpoint {endpoint} within {timeout} s")
        answer = msgpack.unpackb(req.recv(), raw=False, strict_map_key=False)
    finally:
        req.close()
    if not answer.get("ok"):
        raise SubscriberError(f"snapshot of {topic!r} from {endpoint}: {answer.get('error')}")
    return [Output.from_map(m) for m in answer["outputs"]]


class Subscriber:
    """Iterate to receive Outputs; `receive(timeout)` returns None when nothing came in time.

    endpoint   the engine's `publish` (PUB) endpoint, or with `track` its `publish_tracked` one
    topics     node names to receive (exact names); empty: every topic
    snapshot   the engine's snapshot endpoint: enables catch-up and filling of gaps
    catch_up   at start, first yield each topic's last `catch_up` outputs (needs topics, snapshot)
    resume     {topic: last seq seen}: continue after those seqs (a restarted subscriber)
    track      a name: subscribe on the tracked endpoint, where the engine counts our drops
    curve_secret, server_key   CURVE: our `.key_secret` certificate and the engine's public key
    rcvhwm, rcvbuf   ZeroMQ's receive queue (messages) and the kernel's receive buffer (bytes)
    """

    def __init__(self, endpoint: str, topics: Iterable[str] = (), *, snapshot: Optional[str] = None,
                 catch_up: int = 0, resume: Optional[Dict[str, int]] = None,
                 track: Optional[str] = None, curve_secret=None, server_key=None,
                 rcvhwm: int = 1000, rcvbuf: int = 0, silence: float = 10.0, context=None):
        if isinstance(topics, (str, bytes)):
            raise TypeError("topics is a list of node names, not one string")
        self.topics = list(topics)
        if catch_up and not (self.topics and snapshot):
            raise ValueError("catch_up needs topics and the snapshot endpoint")
        if not 0 <= catch_up <= SNAPSHOT_MAX:
            raise ValueError(f"catch_up must be in [0, {SNAPSHOT_MAX}], got {catch_up}")
        self.endpoint, self.snapshot_endpoint, self.track = endpoint, snapshot, track
        # The last seq handed to the caller per topic: what to `resume` from next time.
        self.last_seq: Dict[str, int] = dict(resume or {})
        self._accepted: Dict[str, int] = dict(self.last_seq)  # queued for the caller, too
        self.gaps = []          # Gap records, oldest first
        self.duplicates = 0     # outputs received again (a snapshot overlapping live), not yielded
        self.resets = 0         # topics whose seqs began again at 1 (a sender with a fresh dir)
        self.reconnects = 0     # connections made again after one was lost
        self.filled = 0         # outputs taken from the snapshot endpoint
        self._catch_up = catch_up
        self._curve = (curve_secret, server_key)
        self._silence = silence
        self._ctx = context or zmq.Context.instance()
        self._ready = collections.deque()
        self._sock = self._ctx.socket(zmq.DEALER if track else zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvbuf:
            self._sock.setsockopt(zmq.RCVBUF, rcvbuf)  # kernel receive buffer bytes
        _curve(self._sock, curve_secret, server_key)
        # A connection counts once its handshake succeeded (a refused CURVE key never does).
        self._monitor = self._sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._connected_once = False
        self._acks = set()
        if track:
            self._sock.setsockopt(zmq.ROUTING_ID, track.encode())
            self._sock.connect(endpoint)
            self._subscribe_tracked()
        else:
            for t in self.topics or [""]:
                self._sock.setsockopt(zmq.SUBSCRIBE, t.encode())
            self._sock.connect(endpoint)
        self._heard = time.monotonic()
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self._need_catch_up = bool(snapshot and (catch_up or self._accepted))

    # -- iteration --------------------------------------------------------------------------

    def __iter__(self):
        while True:
            out = self.receive(timeout=None)
            if out is not None:
                yield out

    def receive(self, timeout: Optional[float] = None) -> Optional[Output]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._ready:
                out = self._ready.popleft()
                self.last_seq[out.node] = out.seq
                return out
            if self._need_catch_up:
                self._need_catch_up = False
                self._start_catch_up()
                continue
            wait = 100 if deadline is None else max(0, min(100, int((deadline - time.monotonic()) * 1000)))
            self._poll(wait)
            if not self._ready and deadline is not None and time.monotonic() >= deadline:
                return None

    def close(self):
        if self.track:
            try:
                self._sock.send_multipart([b"bye"], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        self._sock.disable_monitor()
        self._monitor.close(0)
        self._sock.close(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _subscribe_tracked(self):
        for t in self.topics or [""]:
            try:
                # Queued until connected; while the engine is away the queue may fill, and a
                # subscribe that finds it full is simply sent again later.
                self._sock.send_multipart([b"subscribe", t.encode()], zmq.NOBLOCK)
            except zmq.Again:
                pass

    def _poll(self, wait_ms, pending=None):
        """One poll: frames received go through _accept, or into `pending` while catching up."""
        events = dict(self._poller.poll(wait_ms))
        if self._monitor in events:
            while self._monitor.poll(0):
                event = recv_monitor_message(self._monitor)["event"]
                if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    if self._connected_once:
                        self.reconnects += 1
                        self._acks.clear()
                        if self.track:
                            self._subscribe_tracked()  # the engine forgets us when it restarts
                        if self.snapshot_endpoint and self._accepted:
                            self._need_catch_up = True
                    self._connected_once = True
        if self._sock in events:
            while self._sock.poll(0):
                frames = self._sock.recv_multipart()
                self._heard = time.monotonic()
                if len(frames) != 2:
                    continue  # not [topic][output]: not from a shoal engine
                topic, body = frames
                if self.track and topic == b"":
                    self._control(body)
                    continue
                try:
                    out = Output.decode(body)
                except DecodeError:
                    continue  # not an output of a shoal engine: not ours to yield
                if self.topics and out.node not in self.topics:
                    continue  # a topic that merely starts with one of ours
                if pending is not None:
                    pending.append(out)
                else:
                    self._accept(out)
        if self.track and time.monotonic() - self._heard > self._silence:
            # Not even a ping (the engine pings every 5 s): it may have restarted and forgotten
            # our subscription. Subscribing again is idempotent.
            self._heard = time.monotonic()
            self._subscribe_tracked()

    def _control(self, body):
        try:
            answer = msgpack.unpackb(body, raw=False, strict_map_key=False)
        except Exception:
            return
        if not isinstance(answer, dict):
            return
        if "error" in answer:
            raise SubscriberError(f"the engine refused: {answer['error']}")
        if "subscribed" in answer:
            self._acks.add(answer["subscribed"])

    def _start_catch_up(self):
        # Subscribe first and wait until the subscription demonstrably works (an output came, or
        # the tracked endpoint confirmed every topic; else a second passes), then ask for the
        # snapshot: it overlaps the live stream and never leaves a gap between them.
        pending = []
        until = time.monotonic() + 1.0
        wanted = set(self.topics or [""])
        while time.monotonic() < until and not (self._acks >= wanted if self.track else pending):
            self._poll(50, pending)
        while self._sock.poll(0):
            self._poll(0, pending)
        try:
            for topic in self.topics or sorted(self._accepted):
                if self._catch_up or topic in self._accepted:
                    try:
                        self._fill(topic, self._catch_up, until=None)
                    except SubscriberError:
                        pass  # not to be had (a removed node, or no answer): holes stay Gaps
        finally:
            for out in pending:
                self._accept(out)

    def _fill(self, topic, n, until):
        """Take topic's outputs after last_seq (and before seq `until`) from the snapshot: the
        newest n, or when last_seq is known, as many as reach back to it (asked for in growing
        steps, since a snapshot of 100,000 outputs is large)."""
        last = self._accepted.get(topic)
        ask = min(n, SNAPSHOT_MAX) if last is None else 1024
        while True:
            outputs = snapshot(self.snapshot_endpoint, topic, ask, context=self._ctx,
                               curve_secret=self._curve[0], server_key=self._curve[1])
            reached = last is None or not outputs or outputs[0].seq <= last + 1
            if reached or len(outputs) < ask or ask >= SNAPSHOT_MAX:
                break
            ask = min(ask * 8, SNAPSHOT_MAX)
        for out in outputs:
            if until is not None and out.seq >= until:
                break
            last = self._accepted.get(topic)
            if last is not None and out.seq <= last:
                continue
            self.filled += 1
            self._accept(out, filling=True)

    def _accept(self, out, filling=False):
        last = self._accepted.get(out.node)
        if last is not None and out.seq == 1 and last > 1 and not filling:
            # The sender's seqs began again (an engine on a fresh data dir): follow them.
            self.resets += 1
            last = None
            del self._accepted[out.node]
        if last is not None and out.seq <= last:
            self.duplicates += 1
            return
        if last is not None and out.seq > last + 1 and not filling and self.snapshot_endpoint:
            try:
                self._fill(out.node, SNAPSHOT_MAX, until=out.seq)
            except SubscriberError:
                pass  # no snapshot to be had now: the hole stays a Gap
            last = self._accepted.get(out.node)
        if last is not None and out.seq > last + 1:
            self.gaps.append(Gap(out.node, last, out.seq))
        self._accepted[out.node] = out.seq
        self._ready.append(out)
